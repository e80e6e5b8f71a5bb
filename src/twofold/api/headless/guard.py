"""In front of allauth's headless views (and Twofold's beside them): the body is read by the
API's rules before allauth parses it, so hostile input gets a 4xx JSON code, never a 500.

allauth parses the JSON of every method but GET before it looks at the method, with no limit on
size or nesting (1,000 brackets, 2 KB, exhausted its parser's recursion: a 500), answers a body
that is no JSON object with an empty HTML 400, and hands values to Django form fields, which
stringify them (``{"password": ["x"]}`` is the password ``"['x']"``). Here, for those views:

- a method the view does not take: 405 ``method_not_allowed`` (allauth parsed the body first);
- the body: at most 64 KiB (413 ``too_large``), nested at most 32 deep, one JSON object (400
  ``invalid_json``), as on Twofold's endpoints (api/body.py);
- every value of the JSON type its input field takes (400 ``wrong_type``, ``param`` the key).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, cast

from allauth.headless.internal.restkit.views import RESTView
from django import forms
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase

from twofold.api import body, responses

View = Callable[..., HttpResponseBase]


class HeadlessInputMiddleware:
    """Checks the request of a headless view (allauth's ``RESTView``) before the view runs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: View, args: Any, kwargs: Any
    ) -> HttpResponseBase | None:
        method = request.method or "GET"
        view_class = _json_view(view, method)
        if view_class is None:
            return None
        if not _takes(view_class, method):
            return _method_not_allowed(view_class)
        try:
            data = body.json_object(request)
        except body.BodyRefused as refused:
            return refused.response
        fields = _fields(view_class, method)
        if fields is None:
            return None  # the view reads no input: allauth ignores the body
        key = body.wrong_type(fields, data, undeclared_is_text=True)
        return None if key is None else body.wrong_type_response(key)


def _json_view(view: View, method: str) -> type[RESTView] | None:
    """The view's class when allauth's ``RESTView.handle`` parses its body: every method but
    GET, unless the view takes a form post (``handle_json_input = False``)."""
    view_class = getattr(view, "view_class", None)
    if not isinstance(view_class, type) or not issubclass(view_class, RESTView):
        return None
    rest_view = cast(type[RESTView], view_class)
    if method == "GET" or not rest_view.handle_json_input:
        return None
    return rest_view


def _takes(view_class: type[RESTView], method: str) -> bool:
    name = method.lower()
    if name == "head":
        name = "get"  # Django answers HEAD with the view's GET
    return name in view_class.http_method_names and hasattr(view_class, name)


def _method_not_allowed(view_class: type[RESTView]) -> HttpResponse:
    allowed = [m.upper() for m in view_class.http_method_names if hasattr(view_class, m)]
    response = responses.error(405, "method_not_allowed", "Method not allowed.")
    response["Allow"] = ", ".join(allowed)
    return response


def _fields(view_class: type[RESTView], method: str) -> Mapping[str, forms.Field] | None:
    """The fields the view's input declares for ``method``; None: it reads no input."""
    input_class = view_class.input_class
    if isinstance(input_class, dict):
        input_class = input_class.get(method)
    return None if input_class is None else input_class.base_fields
