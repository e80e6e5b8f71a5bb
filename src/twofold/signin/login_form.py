"""allauth's sign-in form with Twofold's wording: the address of an invitation just accepted
filled in, and "Remember Me" named for what it does (issue 19)."""

from __future__ import annotations

from typing import Any

from allauth.account.forms import LoginForm as AllauthLoginForm
from django.utils.translation import gettext_lazy

# Set by accepting an invitation (web/members.py): the address the new member signs in with.
INVITED_EMAIL = "twofold_invited_email"


class LoginForm(AllauthLoginForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        session = getattr(self.request, "session", None)
        # Read once: a sign-in attempt (bound) no longer needs it, nor does a later visitor.
        invited = session.get(INVITED_EMAIL) if session is not None else None
        if invited and self.is_bound and session is not None:
            session.pop(INVITED_EMAIL, None)
        self.invited = bool(invited)
        if invited and not self.is_bound:
            self.fields["login"].initial = invited
        if "remember" in self.fields:
            # Not "Remember this device" of the second step, which skips it for 30 days.
            self.fields["remember"].label = gettext_lazy("Keep me signed in on this browser")
