"""Which factors a member has (factors/member_factors.py), inside ``read_once`` (one read for a
request's second-factor step): the same answers as outside, from one query, never kept beyond
the block."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator

from tests.conftest import MOBILE, give_sms_factor, give_totp_factor
from twofold import clock
from twofold.factors import member_factors, methods, policy
from twofold.factors.models import PreferredFactor
from twofold.factors.sms.models import SmsFactor
from twofold.organizations.models import membership_of
from twofold.users.models import User


def answers(user: User) -> tuple[object, ...]:
    return (
        member_factors.methods(user),
        member_factors.preferred(user),
        member_factors.has_second_factor(user),
        member_factors.sms_phone(user),
        policy.usable_methods(user),
        policy.needs_allowed_factor(user),
    )


def fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)  # as each request loads it


@pytest.mark.parametrize(
    ("sms", "totp", "prefers"),
    [(False, False, None), (True, False, None), (False, True, None), (True, True, "sms")],
)
def test_read_once_answers_as_the_registry_does_without_it(member, sms, totp, prefers):
    if sms:
        give_sms_factor(member)
    if totp:
        give_totp_factor(member)
    if prefers:
        PreferredFactor.objects.create(user=member.user, method=prefers)
    expected = answers(fresh(member.user))
    user = fresh(member.user)
    with member_factors.read_once(user):
        assert answers(user) == expected


def test_read_once_answers_every_question_of_the_step_from_one_query(
    member_with_sms, django_assert_num_queries
):
    user = fresh(member_with_sms.user)
    with django_assert_num_queries(1), member_factors.read_once(user):
        answers(user)
        assert membership_of(user) == member_with_sms
        assert membership_of(user).organization == member_with_sms.organization
        assert not policy.two_factor_required(user)


def test_read_once_keeps_a_membership_already_read(member_with_sms, django_assert_num_queries):
    user = fresh(member_with_sms.user)
    membership_of(user)
    with django_assert_num_queries(1), member_factors.read_once(user):
        assert member_factors.methods(user) == [methods.SMS]


def test_read_once_of_a_user_without_account(db, django_assert_num_queries):
    user = User.objects.create_user("solo@example.test", "x" * 12)
    SmsFactor.objects.create(user=user, phone=MOBILE, enabled_at=clock.now())
    user = fresh(user)
    with django_assert_num_queries(1), member_factors.read_once(user):
        assert member_factors.methods(user) == [methods.SMS]
        assert membership_of(user) is None
        assert policy.usable_methods(user) == [methods.SMS]


def test_a_factor_removed_after_the_block_is_no_longer_answered(member_with_sms):
    user = fresh(member_with_sms.user)
    with member_factors.read_once(user):
        assert member_factors.has_second_factor(user)
    SmsFactor.objects.filter(user=user).delete()
    assert not member_factors.has_second_factor(user)
    assert member_factors.methods(user) == []
    assert member_factors.sms_phone(user) is None
    with member_factors.read_once(user):  # each block reads afresh
        assert member_factors.methods(user) == []


def test_a_factor_added_after_the_block_is_answered(member_with_sms):
    user = fresh(member_with_sms.user)
    with member_factors.read_once(user):
        assert member_factors.preferred(user) == methods.SMS
    give_totp_factor(member_with_sms)
    assert member_factors.methods(user) == [methods.TOTP, methods.SMS]
    assert member_factors.preferred(user) == methods.TOTP


def test_nested_blocks_share_the_outer_read(member_with_sms, django_assert_num_queries):
    user = fresh(member_with_sms.user)
    with django_assert_num_queries(1), member_factors.read_once(user):
        assert member_factors.has_second_factor(user)
        with member_factors.read_once(user):
            assert member_factors.methods(user) == [methods.SMS]
        assert member_factors.sms_phone(user) == MOBILE  # the inner block left the outer read


def test_the_block_ends_on_an_error_too(member_with_sms):
    user = fresh(member_with_sms.user)

    def fail() -> None:
        with member_factors.read_once(user):
            member_factors.methods(user)
            raise RuntimeError

    with pytest.raises(RuntimeError):
        fail()
    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={})
    assert member_factors.methods(user) == [methods.TOTP, methods.SMS]


def test_a_block_reads_nothing_when_nothing_is_asked(member_with_sms, django_assert_num_queries):
    user = fresh(member_with_sms.user)
    with django_assert_num_queries(0), member_factors.read_once(user):
        pass
