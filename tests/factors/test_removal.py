"""Removing second factors under a race (``factors/removal.py``): while the account requires 2FA,
the member's last factor stays, however many removals arrive at the same moment (DESIGN.md
"Mandatory 2FA"; ASVS 6.3.3: every member of such an account keeps a second factor)."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable

import pytest
from allauth.mfa.models import Authenticator

from tests.concurrency import at_once
from tests.conftest import give_sms_factor, give_totp_factor, require_two_factor
from twofold import clock
from twofold.errors import FlowError
from twofold.factors import member_factors, methods, removal
from twofold.factors.webauthn import flows as webauthn_flows
from twofold.organizations.models import Membership
from twofold.users.models import User

TRIALS = 6  # the issue saw zero factors left in 2 of 6 trials


def _alternating(*calls: Callable[[], None]) -> Callable[[], None]:
    """One call for ``at_once``: each thread takes the next of ``calls`` in turn."""
    turns = itertools.cycle(calls)
    lock = threading.Lock()

    def call() -> None:
        with lock:
            chosen = next(turns)
        chosen()

    return call


def _fresh_user(membership: Membership) -> User:
    return User.objects.get(pk=membership.user_id)  # one per thread: nothing shared but the row


def _remove(membership: Membership, method: str) -> Callable[[], None]:
    return lambda: removal.remove_factor(_fresh_user(membership), method)


def _remove_key(membership: Membership, key_id: int) -> Callable[[], None]:
    return lambda: webauthn_flows.remove(_fresh_user(membership), key_id)


@pytest.mark.django_db(transaction=True)
def test_asvs_6_3_3_simultaneous_removals_never_remove_the_last_factor_while_required(member):
    require_two_factor(member.organization)
    left_after = []
    for _ in range(TRIALS):
        give_sms_factor(member)
        give_totp_factor(member)
        outcomes = at_once(
            _alternating(_remove(member, methods.SMS), _remove(member, methods.TOTP))
        )
        unexpected = [o for o in outcomes if o is not None and not isinstance(o, FlowError)]
        assert not unexpected, unexpected  # a refusal, never a 500
        left_after.append(member_factors.methods(member.user))
        removal.remove_all(member.user)  # the next trial starts from both factors again
    assert all(len(left) == 1 for left in left_after), left_after


@pytest.mark.django_db(transaction=True)
def test_asvs_6_3_3_simultaneous_removals_of_two_keys_keep_one_while_required(member):
    require_two_factor(member.organization)
    left_after = []
    for _ in range(TRIALS):
        keys = [
            Authenticator.objects.create(
                user=member.user,
                type=Authenticator.Type.WEBAUTHN,
                data={"name": name},
                created_at=clock.now(),
            ).pk
            for name in ("Blue key", "Red key")
        ]
        give_sms_factor(member)  # the backup codes of a finished set-up
        removal.remove_factor(member.user, methods.SMS)
        outcomes = at_once(_alternating(*(_remove_key(member, key) for key in keys)))
        unexpected = [o for o in outcomes if o is not None and not isinstance(o, FlowError)]
        assert not unexpected, unexpected
        left_after.append(webauthn_flows.keys(member.user))
        removal.remove_all(member.user)
    assert all(len(left) == 1 for left in left_after), left_after


def test_removing_a_factor_beside_another_keeps_the_other_and_the_backup_codes(member):
    require_two_factor(member.organization)
    give_sms_factor(member)
    give_totp_factor(member)
    removal.remove_factor(member.user, methods.SMS)
    assert member_factors.methods(member.user) == [methods.TOTP]
    with pytest.raises(FlowError) as refused:
        removal.remove_factor(member.user, methods.TOTP)
    assert refused.value.code == "two_factor_required"
    assert member_factors.methods(member.user) == [methods.TOTP]
