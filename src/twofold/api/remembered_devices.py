"""The member's remembered browsers in the JSON API: the same flows as the security settings
page (``signin.remembered``). "Current" is the browser asking (its cookie)."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse

from twofold.api import responses
from twofold.api.endpoint import Call, endpoint
from twofold.signin import remembered
from twofold.signin.models import RememberedDevice


def _device(call: Call, device: RememberedDevice) -> dict[str, Any]:
    return {
        "id": device.pk,
        "device": device.device,
        "created_at": device.created_at.isoformat(),
        "expires_at": device.expires_at.isoformat(),
        "last_used_at": device.last_used_at.isoformat() if device.last_used_at else None,
        "current": remembered.is_current(call.request, device),
    }


def _listing(call: Call) -> dict[str, Any]:
    return {"devices": [_device(call, d) for d in remembered.listed(call.user)]}


@endpoint("GET", "DELETE")
def remembered_devices(call: Call) -> HttpResponse:
    """GET: the member's remembered browsers. DELETE: forget them all."""
    if call.request.method == "DELETE":
        forgotten = remembered.forget_all(call.user)
        return responses.ok({"forgotten": forgotten, **_listing(call)})
    return responses.ok(_listing(call))


@endpoint("DELETE")
def remembered_device(call: Call, device_id: int) -> HttpResponse:
    """Forget one; another member's is a 404 ``device_not_found``."""
    remembered.forget(call.user, device_id)
    return responses.ok(_listing(call))
