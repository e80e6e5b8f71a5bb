"""The ``file`` email backend: one readable, sortable ``.eml`` per message (config/mail.py)."""

from __future__ import annotations

import email
import email.policy
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core import mail
from django.test import override_settings

from twofold import clock

SENT = datetime(2026, 12, 4, 19, 30, 5, tzinfo=UTC)


@pytest.fixture
def mail_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(clock, "now", lambda: SENT)
    with override_settings(
        EMAIL_BACKEND="twofold.config.mail.EmailBackend", EMAIL_FILE_PATH=tmp_path / "mail"
    ):
        yield tmp_path / "mail"


def test_each_message_gets_a_file_named_by_time_recipient_and_subject(mail_dir: Path) -> None:
    mail.send_mail("[Twofold] Your sign-in code", "123456", None, ["ada@example.com"])

    (path,) = mail_dir.iterdir()

    assert path.name == "2026-12-04T19-30-05_to-ada@example.com_Twofold-Your-sign-in-code.eml"
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert message["To"] == "ada@example.com"
    assert message.get_body().get_content().strip() == "123456"


def test_messages_of_the_same_second_never_share_a_file(mail_dir: Path) -> None:
    with mail.get_connection() as connection:
        sent = connection.send_messages(
            [mail.EmailMessage("Hello", str(n), to=["bob@example.com"]) for n in range(3)]
        )

    names = sorted(p.name for p in mail_dir.iterdir())
    assert sent == 3
    assert names == [
        "2026-12-04T19-30-05_to-bob@example.com_Hello-2.eml",
        "2026-12-04T19-30-05_to-bob@example.com_Hello-3.eml",
        "2026-12-04T19-30-05_to-bob@example.com_Hello.eml",
    ]


@pytest.mark.parametrize(
    ("subject", "part"),
    [
        ("a/b\\c: d?", "a-b-c-d"),
        ("", "none"),
        ("x" * 200, "x" * 60),
    ],
)
def test_a_subject_becomes_a_safe_part_of_the_name(mail_dir: Path, subject: str, part: str) -> None:
    mail.send_mail(subject, "body", None, ["ada@example.com"])

    (path,) = mail_dir.iterdir()

    assert path.name == f"2026-12-04T19-30-05_to-ada@example.com_{part}.eml"


def test_a_message_file_is_readable_by_its_owner_only(mail_dir: Path) -> None:
    mail.send_mail("Invitation", "a link", None, ["ada@example.com"])

    (path,) = mail_dir.iterdir()

    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_message_without_recipients_writes_nothing(mail_dir: Path) -> None:
    assert mail.EmailMessage("Nobody", "body").send() == 0

    assert list(mail_dir.glob("*")) == []
