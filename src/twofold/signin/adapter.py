"""Twofold's allauth account adapter: sign-up creates an account, and the login stages.

The login is a controller of stages (allauth ``LoginStageController``); each stage decides for
itself whether it applies: "SSO required" for password sign-ins, the second-factor challenge,
then forced 2FA enrollment (an SSO sign-in's 2FA policy is read by both); the sign-in state
diagram is in docs/architecture.md.
"""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest

from twofold.organizations import flows as organization_flows

LOGIN_STAGES = [
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
            organization_flows.create_organization(user, form.cleaned_data["organization_name"])
        return user

    def get_login_stages(self) -> list[str]:
        return list(LOGIN_STAGES)

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        context.setdefault("public_url", settings.TWOFOLD.public_url)
        super().send_mail(template_prefix, email, context)
