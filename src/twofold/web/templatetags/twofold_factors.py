"""``{% has_second_factor user as has_one %}``: whether the member has a second factor, so a
page offers only the ways to confirm it is them that they have."""

from django import template

from twofold.factors import member_factors
from twofold.users.models import User

register = template.Library()


@register.simple_tag
def has_second_factor(user: User) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and member_factors.has_second_factor(user)
