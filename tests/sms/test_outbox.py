"""The embedded ``outbox`` gateway (DESIGN.md "Operator contract") and the ``console`` gateway."""

from __future__ import annotations

import json
import logging
import multiprocessing
import stat
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path

from tests.conftest import MOBILE
from twofold.sms.gateways.console import ConsoleGateway
from twofold.sms.gateways.outbox import OutboxGateway


def test_each_text_is_one_json_line_with_to_body_and_utc_sent_at(tmp_path):
    outbox = tmp_path / "sub" / "sms-outbox.jsonl"
    gateway = OutboxGateway(outbox)

    first = gateway.send(MOBILE, "Your code is 123456\n\n@login.test #123456")
    gateway.send("+4915123456789", 'quotes " and ünïcode')

    lines = outbox.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    record = json.loads(lines[0])
    assert list(record) == ["to", "body", "sent_at"]
    assert record["to"] == MOBILE
    assert record["body"] == "Your code is 123456\n\n@login.test #123456"
    sent_at = datetime.fromisoformat(record["sent_at"])
    assert sent_at.utcoffset() == UTC.utcoffset(None)
    assert record["sent_at"].endswith("Z")
    assert json.loads(lines[1])["body"] == 'quotes " and ünïcode'
    assert uuid.UUID(first).version == 4


def test_the_outbox_is_readable_by_its_owner_only(tmp_path):
    outbox = tmp_path / "sms-outbox.jsonl"
    OutboxGateway(outbox).send(MOBILE, "code")
    assert stat.S_IMODE(outbox.stat().st_mode) == 0o600


def test_the_log_says_where_the_text_is_but_never_its_code(tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="twofold.sms"):
        OutboxGateway(tmp_path / "o.jsonl").send(MOBILE, "Your code is 654321")
    assert f"written to {tmp_path / 'o.jsonl'}" in caplog.text
    assert "654321" not in caplog.text
    assert MOBILE not in caplog.text  # the number is masked in logs


def test_concurrent_writers_never_interleave_lines(tmp_path):
    outbox = tmp_path / "sms-outbox.jsonl"
    body = "x" * 5000  # larger than a pipe buffer: a torn write would show

    def write(worker: int) -> None:
        gateway = OutboxGateway(outbox)
        for n in range(50):
            gateway.send(MOBILE, f"{worker}-{n} {body}")

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    lines = outbox.read_text().splitlines()
    assert len(lines) == 200
    seen = {json.loads(line)["body"].split(" ")[0] for line in lines}
    assert seen == {f"{w}-{n}" for w in range(4) for n in range(50)}


def _write_fifty(outbox: Path, worker: int) -> None:
    gateway = OutboxGateway(outbox)
    for n in range(50):
        gateway.send(MOBILE, f"{worker}-{n} " + "y" * 5000)


def test_concurrent_worker_processes_never_interleave_lines(tmp_path):
    outbox = tmp_path / "sms-outbox.jsonl"
    fork = multiprocessing.get_context("fork")  # as gunicorn makes its workers
    workers = [fork.Process(target=_write_fifty, args=(outbox, w)) for w in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    assert [worker.exitcode for worker in workers] == [0, 0, 0, 0]

    lines = outbox.read_text().splitlines()
    assert len(lines) == 200
    assert all(json.loads(line)["to"] == MOBILE for line in lines)


def test_console_prints_the_text(capsys):
    message_id = ConsoleGateway().send(MOBILE, "Your code is 111111")
    printed = capsys.readouterr().out
    assert "+41 79 123 45 67" in printed
    assert "Your code is 111111" in printed
    assert message_id in printed
