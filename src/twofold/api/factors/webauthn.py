"""Security keys and passkeys in the JSON API: the same flows and forms as the settings pages.

``POST /two-factor/webauthn`` ``{passkey}`` (recent password needed): the options of
``navigator.credentials.create()``; ``POST …/webauthn/complete`` ``{name, credential}``; beside
another factor the key is active now, otherwise ``…/backup-codes`` and ``…/activate`` follow.
``GET /two-factor/webauthn``: the keys; ``PATCH …/<id>`` ``{name}``; ``DELETE …/<id>``.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse

from twofold.api import responses
from twofold.api.endpoint import Call, endpoint
from twofold.api.factors import activation
from twofold.api.factors.shared import factors_changed, status
from twofold.factors.webauthn import flows
from twofold.factors.webauthn.forms import BeginForm, NameForm, RegisterForm


def _rp(call: Call) -> flows.RelyingParty:
    return flows.relying_party(call.request.get_host())


def _key(key: flows.Key) -> dict[str, Any]:
    return {
        "id": key.id,
        "name": key.name,
        "passkey": key.passkey,
        "created_at": key.created_at.isoformat(),
        "last_used_at": key.last_used_at.isoformat() if key.last_used_at else None,
    }


def _keys(call: Call) -> dict[str, Any]:
    return {"keys": [_key(k) for k in flows.keys(call.user)]}


@endpoint("GET", "POST")
def keys(call: Call) -> HttpResponse:
    """GET: the member's keys. POST ``{passkey}``: start registering one (recent password)."""
    if call.request.method == "GET":
        return responses.ok(_keys(call))
    # Beside another factor, binding a key needs that factor too (aal2), as for a number.
    call.require_fresh_to_bind()
    passkey = call.validated(BeginForm)["passkey"]
    options = flows.begin_registration(call.user, call.session, _rp(call), passkey=passkey)
    return responses.ok({"creation_options": options}, status=202)


@endpoint("POST")
def complete(call: Call) -> HttpResponse:
    """``{name, credential}``: the browser's answer. ``webauthn_active`` false: a first factor,
    backup codes and activation follow."""
    call.require_fresh_to_bind()  # binds the key beside another factor: as the start
    data = call.validated(RegisterForm)
    created = flows.complete_registration(
        call.user, call.session, _rp(call), data["name"], data["credential"]
    )
    answer = {**status(call), **_keys(call), "webauthn_active": created is not None}
    return responses.ok(factors_changed(call, answer) if created else answer)


@endpoint("POST")
def backup_codes(call: Call) -> HttpResponse:
    return activation.backup_codes(call, flows)


@endpoint("POST")
def activate(call: Call) -> HttpResponse:
    return activation.activate(call, flows, extra=_keys)


@endpoint("POST")
def cancel(call: Call) -> HttpResponse:
    return activation.cancel(call, flows)


@endpoint("PATCH", "DELETE")
def key(call: Call, key_id: int) -> HttpResponse:
    """PATCH ``{name}``: rename. DELETE: remove (recent password); the last key as removing
    the factor (the last factor only as turning 2FA off)."""
    if call.request.method == "PATCH":
        renamed = flows.rename(call.user, key_id, call.validated(NameForm)["name"])
        return responses.ok(_key(renamed))
    call.require_fresh()
    flows.remove(call.user, key_id)
    return responses.ok(factors_changed(call, {**status(call), **_keys(call)}))
