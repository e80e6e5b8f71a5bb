"""A generic HTTP webhook: POST each text as JSON to the operator's own SMS relay.

The body is the operator's JSON template with ``{to}`` and ``{body}`` replaced inside its parsed
string values, never by formatting raw JSON text, so a text containing quotes or braces cannot
change the document's structure. Answers: 2xx sent (id from ``id`` or ``message_id`` if given);
408, 429, 5xx, redirects, timeouts and connection errors retryable at the next gateway; any other
4xx refused as final. Redirects are not followed, so credentials go to the configured URL only.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import requests

from twofold.config.secret import Secret
from twofold.config.sms import SmsSettings
from twofold.sms.gateway import SmsError

PLACEHOLDER = re.compile(r"\{(to|body)\}")


class WebhookGateway:
    name = "webhook"

    def __init__(
        self,
        *,
        url: str,
        body_template: Any,
        bearer_token: Secret | None = None,
        basic_auth: tuple[str, Secret] | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.url = url
        self.template = body_template
        self.headers = {"Authorization": f"Bearer {bearer_token}"} if bearer_token else {}
        self.auth = (basic_auth[0], str(basic_auth[1])) if basic_auth else None
        self.timeout = timeout

    def send(self, to: str, body: str) -> str:
        payload = fill(self.template, {"to": to, "body": body})
        try:
            response = requests.post(
                self.url,
                json=payload,
                headers=self.headers,
                auth=self.auth,
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.Timeout:
            waited = f"webhook: no answer within {self.timeout:g} s"
            raise SmsError(waited, retryable=True) from None
        except requests.RequestException as error:
            raise SmsError(f"webhook: {type(error).__name__}", retryable=True) from None
        status = response.status_code
        if 200 <= status < 300:
            return _message_id(response)
        final = 400 <= status < 500 and status not in (408, 429)
        raise SmsError(f"webhook: HTTP {status}", retryable=not final)


def fill(template: Any, values: dict[str, str]) -> Any:
    """A copy of ``template`` with ``{to}``/``{body}`` replaced in its strings, in one pass."""
    if isinstance(template, str):
        return PLACEHOLDER.sub(lambda match: values[match[1]], template)
    if isinstance(template, dict):
        return {key: fill(value, values) for key, value in template.items()}
    if isinstance(template, list):
        return [fill(item, values) for item in template]
    return template


def _message_id(response: requests.Response) -> str:
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if isinstance(answer, dict):
        for key in ("id", "message_id"):
            if isinstance(answer.get(key), str | int) and str(answer[key]):
                return str(answer[key])[:128]
    return str(uuid.uuid4())


def from_settings(sms: SmsSettings) -> WebhookGateway:
    if sms.webhook is None:
        raise ValueError("the webhook gateway is not configured")
    return WebhookGateway(
        url=sms.webhook.url,
        body_template=sms.webhook.body_template,
        bearer_token=sms.webhook.bearer_token,
        basic_auth=sms.webhook.basic_auth,
        timeout=sms.timeout,
    )
