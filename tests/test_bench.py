"""The benchmark driver's parsing helpers (bench/driver.py): nothing here is timed."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import pytest
from bench.driver import Browser, Outbox, SignInFailed, code_from_body, csrf_token, percentile
from bench.soak import SoakResult, resident_kib

from tests.conftest import PASSWORD
from twofold.organizations.models import Membership

BODY = "Your Twofold sign-in code is 123456.\nIt expires in 5 minutes.\n\n@127.0.0.1 #{code}"


def _text(to: str, code: str) -> str:
    return json.dumps({"to": to, "body": BODY.format(code=code), "sent_at": "2026-01-01T00:00Z"})


def test_code_is_read_after_the_final_hash() -> None:
    assert code_from_body(BODY.format(code="042917")) == "042917"
    assert code_from_body("Your code is 123456, no domain-bound line") is None


def test_outbox_gives_the_newest_code_to_the_number(tmp_path: Path) -> None:
    path = tmp_path / "sms-outbox.jsonl"
    path.write_text(
        "\n".join([_text("+41790000001", "111111"), _text("+41790000003", "333333")]) + "\n"
    )
    outbox = Outbox(path)
    assert outbox.count("+41790000001") == 1
    with path.open("a") as appending:
        appending.write(_text("+41790000001", "222222") + "\n")
    assert outbox.code_after("+41790000001", seen=1) == "222222"
    assert outbox.code_after("+41790000003", seen=0) == "333333"


def test_outbox_waits_for_a_line_still_being_written(tmp_path: Path) -> None:
    path = tmp_path / "sms-outbox.jsonl"
    line = _text("+41790000001", "654321")
    path.write_text(line[:20])  # a worker is in the middle of its write
    outbox = Outbox(path)
    assert outbox.count("+41790000001") == 0
    with path.open("a") as appending:
        appending.write(line[20:] + "\n")
    assert outbox.code_after("+41790000001", seen=0) == "654321"


def test_outbox_without_a_new_text_fails_the_sign_in(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "missing.jsonl")
    with pytest.raises(SignInFailed, match="no text"):
        outbox.code_after("+41790000001", seen=0, timeout=0)


def test_percentiles_interpolate_between_ranks() -> None:
    values = [0.4, 0.1, 0.3, 0.2, 0.5]
    assert percentile(values, 50) == pytest.approx(0.3)
    assert percentile(values, 95) == pytest.approx(0.48)
    assert percentile(values, 100) == pytest.approx(0.5)
    assert percentile([7.0], 99) == 7.0
    assert math.isnan(percentile([], 50))


def test_csrf_token_is_taken_from_the_form() -> None:
    page = '<form><input type="hidden" name="csrfmiddlewaretoken" value="a&amp;b"></form>'
    assert csrf_token(page) == "a&b"
    with pytest.raises(SignInFailed):
        csrf_token("<form></form>")


def test_soak_memory_growth_compares_the_last_minute_with_the_first() -> None:
    soaked = SoakResult(rate=10, seconds=600)
    soaked.memory = [(t, 100_000 if t < 300 else 108_000) for t in range(0, 601, 5)]
    assert soaked.memory_growth() == pytest.approx(0.08)
    assert math.isnan(SoakResult(rate=10, seconds=600).memory_growth())


def test_resident_memory_counts_the_process_and_its_children() -> None:
    import os
    import subprocess
    import sys

    alone = resident_kib(os.getpid())
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(5)"]) as child:
        try:
            time.sleep(0.3)  # the child has started (not a timing assertion)
            assert resident_kib(os.getpid()) > alone > 0
        finally:
            child.kill()


def test_browser_keeps_cookies_and_drops_the_ones_deleted() -> None:
    browser = Browser("http://127.0.0.1:9", {})
    browser._keep_cookies(
        [
            "twofold-csrf=abc; expires=Mon, 01 Dec 2027 00:00:00 GMT; Max-Age=31449600; Path=/",
            "twofold-session=s1; HttpOnly; Path=/; SameSite=Lax",
        ]
    )
    assert browser.cookies == {"twofold-csrf": "abc", "twofold-session": "s1"}
    browser._keep_cookies(
        ['twofold-session=""; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/']
    )
    assert browser.cookies == {"twofold-csrf": "abc"}


def test_twofold_serves_with_gunicorn_threads_and_no_control_socket() -> None:
    from twofold.cli import THREADS_PER_WORKER, gunicorn_arguments

    arguments = gunicorn_arguments("app:application", "127.0.0.1:8123", 3)
    assert arguments[0] == "app:application"
    assert "--bind=127.0.0.1:8123" in arguments
    assert "--workers=3" in arguments
    assert "--worker-class=gthread" in arguments
    assert f"--threads={THREADS_PER_WORKER}" in arguments
    assert "--no-control-socket" in arguments


@pytest.mark.django_db
def test_bare_django_baseline_takes_the_fields_allauth_posts(member: Membership) -> None:
    """The driver posts ``login`` and ``password`` to every project it compares."""
    from bench.baseline.views import EmailLoginForm

    form = EmailLoginForm(data={"login": member.user.email, "password": PASSWORD})
    assert form.is_valid(), form.errors
    assert form.get_user() == member.user

    wrong = EmailLoginForm(data={"login": member.user.email, "password": "not it"})
    assert not wrong.is_valid()
    assert wrong.get_user() is None


def test_session_and_forward_auth_checks_run_side_by_side_in_abba_order(monkeypatch) -> None:
    from bench import run

    order: list[str] = []

    def fake(url: str, cookie: str, seconds: float, path: str) -> run.SessionChecks:
        order.append(path)
        return run.SessionChecks("wrk", 16, 1000.0 * len(order), 0)

    monkeypatch.setattr(run, "session_checks", fake)
    measured = run.checks_side_by_side("http://127.0.0.1:9", "c=1", 5)
    assert order == ["/api/v1/me", "/auth/forward", "/auth/forward", "/api/v1/me"]
    table = run.checks_table(measured, 5)
    assert "| GET /api/v1/me | 2,500 | 1,000 / 4,000 | 0 | 0 |" in table
    assert "| GET /auth/forward | 2,500 | 2,000 / 3,000 | 0 | 0 |" in table
