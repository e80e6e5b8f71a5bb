"""Twofold's allauth account adapter: sign-up creates an account, and the login stages.

The login is a controller of stages (allauth ``LoginStageController``); each stage decides for
itself whether it applies: "SSO required" for password sign-ins, the second-factor challenge,
then forced 2FA enrollment (an SSO sign-in's 2FA policy is read by both); the sign-in state
diagram is in docs/architecture.md.
"""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.cache import caches
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest

from twofold import metrics
from twofold.audit import receivers
from twofold.config.cache import DatabaseCache
from twofold.organizations import flows as organization_flows
from twofold.organizations.language import in_language_of
from twofold.signin import account_key, ratelimit
from twofold.users.models import User

PASSWORD = "password"  # the sign-in's method in the metrics

LOGIN_STAGES = [
    "twofold.signin.stages.SignUpCostStage",
    "twofold.signin.stages.SsoRequiredStage",
    "allauth.account.stages.LoginByCodeStage",
    "allauth.account.stages.EmailVerificationStage",
    "twofold.signin.stages.SecondFactorStage",
    "twofold.signin.stages.TwoFactorEnrollmentStage",
]


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return bool(settings.TWOFOLD.signup_open)

    def save_user(self, request: HttpRequest, user: Any, form: Any, commit: bool = True) -> Any:
        """Sign-up: the user and their new organization are created together or not at all."""
        with transaction.atomic():
            user = super().save_user(request, user, form, commit=True)
            organization_flows.create_organization(
                user,
                form.cleaned_data["organization_name"],
                default_country=organization_flows.region_of(
                    request.headers.get("accept-language", "")
                ),
            )
        return user

    def confirm_email(self, request: HttpRequest, email_address: EmailAddress) -> bool:
        """A right email code verifies the address only if its row is still there, checked
        under the row's lock: a sign-up deleted meanwhile (an invitation took its address over,
        or it expired: organizations/unverified.py) confirms nothing and its login ends, where
        allauth's save would insert the address again (a 500 on the unique email)."""
        with transaction.atomic():
            if email_address.pk is not None and not _still_there(email_address):
                return False
            return bool(super().confirm_email(request, email_address))

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        """allauth's failed sign-in limit, reserved before the hash as allauth does; on the
        database cache without its lock entry (signin/ratelimit.py). Redis: allauth's own. A
        sign-in it refuses is audited (no wrong password was checked, so no signal says so)."""
        try:
            self._reserve_login_failed(request, **credentials)
        except ValidationError:
            receivers.record_password_refusal(credentials, request, rate_limited=True)
            metrics.rate_limited("login_failed")
            if not _reauthenticating(request):
                metrics.sign_in(PASSWORD, metrics.LOCKED)
            raise

    def _reserve_login_failed(self, request: HttpRequest, **credentials: Any) -> None:
        backend = caches["default"]
        if not isinstance(backend, DatabaseCache):
            super().pre_authenticate(request, **credentials)
            return
        key = self._get_login_attempts_cache_key(request, **credentials)
        # allauth gives this back after a right password (``_rollback_login_failed_rl_usage``).
        self._login_failed_rl_usage = ratelimit.consume_login_failed(request, key, backend)
        if not self._login_failed_rl_usage:
            raise self.validation_error("too_many_login_attempts")

    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials: Any) -> str:
        """The failed sign-in limit's key: the account alone (signin/account_key.py). allauth's
        also held the request's host, and each spelling of it (port, case, trailing dot) started
        a fresh count; its reservation, its give-back and a password reset's clearing all ask
        here, so they count and clear the same entry."""
        login = str(credentials.get("email") or credentials.get("username") or "")
        self._sign_in_account = account_key.for_sign_in(login)
        return self._sign_in_account.key

    def authenticate(self, request: HttpRequest, **credentials: Any) -> AbstractBaseUser | None:
        user = super().authenticate(request, **credentials)
        if not _reauthenticating(request):  # the one password check of sign-in, page or API
            metrics.sign_in(PASSWORD, metrics.FAILURE if user is None else metrics.SUCCESS)
        if user is not None and credentials.get("email"):
            read = getattr(self, "_sign_in_account", None)
            _remember_addresses(user, credentials["email"], read)
        return user

    def get_login_stages(self) -> list[str]:
        return list(LOGIN_STAGES)

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        context.setdefault("public_url", settings.TWOFOLD.public_url)
        recipient = User.objects.filter(email__iexact=email).first()
        # A member's mail in their language, whoever asked for it (a reset, a new address).
        with in_language_of(recipient):
            super().send_mail(template_prefix, email, context)


def _reauthenticating(request: HttpRequest) -> bool:
    """A signed-in member confirming their password (allauth's re-authentication), not a
    sign-in."""
    return bool(getattr(getattr(request, "user", None), "is_authenticated", False))


def _still_there(email_address: EmailAddress) -> bool:
    """The address row exists, for the same user; locked until the caller's transaction ends,
    so the takeover of an unproven sign-up (which locks it too) waits, or is waited for."""
    rows = EmailAddress.objects.select_for_update().filter(
        pk=email_address.pk, user_id=email_address.user_id
    )
    return rows.first() is not None


def _remember_addresses(
    user: AbstractBaseUser, email: str, read: account_key.SignInAccount | None
) -> None:
    """allauth reads the sign-in address twice more in this request (its rate limit by
    verification state, its email verification stage): one read of the member's addresses,
    kept in allauth's own per-user cache (``fill_cache_for_user``), answers both (issue 7).
    The read that found the limit's key (``read``) is that read: no query of its own.

    Only when the address is among them: otherwise allauth creates it on the way (a member set
    up in the admin), and a cache read before that would not show it.
    """
    if read is None:
        addresses = list(EmailAddress.objects.filter(user_id=user.pk))
    else:
        addresses = [address for address in read.addresses if address.user_id == user.pk]
    if not any(address.email == email.lower() for address in addresses):
        return
    for address in addresses:
        address.user = user  # as allauth's ``get_for_user`` does, so no query reads it back
    EmailAddress.objects.fill_cache_for_user(user, addresses)
