"""The signed-in page (it names the member, as the driver checks) and bare Django's login."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "baseline/home.html")


class EmailLoginForm(AuthenticationForm):
    """Django's form, its ``username`` field named ``login`` as the driver (and allauth) post it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["login"] = self.fields.pop("username")

    def clean(self) -> dict[str, Any]:
        self.cleaned_data["username"] = self.cleaned_data.get("login")
        return super().clean()


login = auth_views.LoginView.as_view(form_class=EmailLoginForm, template_name="baseline/login.html")


def me(request: HttpRequest) -> JsonResponse:
    """Who is signed in, in the shape of Twofold's ``/api/v1/me``: Django's floor for it."""
    if not request.user.is_authenticated:
        return JsonResponse({"status": 401}, status=401)
    return JsonResponse({"status": 200, "data": {"user": {"email": request.user.email}}})
