"""``{% sso_offered as offered %}``: whether any account has set up "Sign in with SSO"
(a verified domain with a connection)."""

from django import template

from twofold.sso.models import EmailDomain

register = template.Library()


@register.simple_tag
def sso_offered() -> bool:
    return EmailDomain.objects.verified().filter(connection__isnull=False).exists()
