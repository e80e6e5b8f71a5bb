"""Where a sign-in's CPU goes, request by request, in-process: ``python -m bench.profile``.

Seeds a fresh data directory as ``make bench`` does, then signs members in through Django's
test client (one handler, so the middleware is built once, as under gunicorn; no test-only
template instrumentation) and reports, per request of a sign-in, the CPU time
(``time.process_time``) and the queries. ``--cprofile FILE`` writes a cProfile of the
requests (``python -m pstats FILE``). The hash alone is measured the same way, for comparison.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.driver import Outbox
from bench.population import PASSWORD, Member
from bench.run import prepare_database, server_environment


class Requests:
    """CPU time and queries per named request, over many sign-ins."""

    def __init__(self, profiler: cProfile.Profile | None) -> None:
        self.cpu: dict[str, list[float]] = defaultdict(list)
        self.queries: dict[str, list[int]] = defaultdict(list)
        self.profiler = profiler

    def measure(self, name: str, call: Callable[[], Any]) -> Any:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            if self.profiler:
                self.profiler.enable()
            started = time.process_time()
            result = call()
            self.cpu[name].append(time.process_time() - started)
            if self.profiler:
                self.profiler.disable()
        self.queries[name].append(len(captured.captured_queries))
        return result


def _check(condition: bool, what: object) -> None:
    if not condition:
        raise RuntimeError(f"the sign-in went wrong: {what}")


def sign_in(client: Any, member: Member, outbox: Outbox, requests: Requests, n: int) -> None:
    from http.cookies import SimpleCookie

    client.cookies = SimpleCookie()
    seen = outbox.count(member.phone) if member.has_sms else 0
    address = {"HTTP_X_FORWARDED_FOR": f"10.9.{n >> 8 & 255}.{n & 255}"}
    page = requests.measure("GET login page", lambda: client.get("/accounts/login/", **address))
    _check(page.status_code == 200, page.status_code)
    form = {"login": member.email, "password": PASSWORD}
    kind = "SMS" if member.has_sms else "password"
    answer = requests.measure(
        f"{kind}: POST password", lambda: client.post("/accounts/login/", form, **address)
    )
    _check(answer.status_code == 302, answer.status_code)
    if member.has_sms:
        _check(answer["Location"] == "/accounts/2fa/", answer["Location"])
        page = requests.measure(
            "SMS: GET code page", lambda: client.get("/accounts/2fa/", **address)
        )
        _check(page.status_code == 200, page.status_code)
        code = outbox.code_after(member.phone, seen)
        answer = requests.measure(
            "SMS: POST code", lambda: client.post("/accounts/2fa/", {"code": code}, **address)
        )
        _check(answer.status_code == 302, answer.status_code)
    _check(answer["Location"] == "/", answer["Location"])
    page = requests.measure(f"{kind}: GET signed-in page", lambda: client.get("/", **address))
    _check(page.status_code == 200, page.status_code)
    _check(
        f">{member.email}<" in page.content.decode(), "the signed-in page does not name the member"
    )


def hash_cpu(times: int) -> float:
    from django.contrib.auth.hashers import check_password, make_password

    encoded = make_password(PASSWORD)
    started = time.process_time()
    for _ in range(times):
        check_password(PASSWORD, encoded)
    return (time.process_time() - started) / times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--sign-ins", type=int, default=60, help="of each kind")
    parser.add_argument("--cprofile", type=Path, help="write a cProfile of the requests here")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="twofold-profile-"))
    environ = server_environment(data_dir, 8000)
    prepare_database(environ, args.members)
    os.environ.update(environ)
    os.environ["DJANGO_SETTINGS_MODULE"] = "twofold.config.settings"
    import django

    django.setup()
    from django.test import Client

    outbox = Outbox(data_dir / "sms-outbox.jsonl")
    client = Client(SERVER_NAME="127.0.0.1")
    requests = Requests(cProfile.Profile() if args.cprofile else None)
    # Warm-up: templates compiled, connections open.
    for warm in (Member(0), Member(1)):
        sign_in(client, warm, outbox, Requests(None), warm.index)
    requests_done = 0
    for round_ in range(args.sign_ins):
        for member in (
            Member(2 + 2 * round_ % (args.members - 2)),
            Member(3 + 2 * round_ % (args.members - 2)),
        ):
            sign_in(client, member, outbox, requests, requests_done + 2)
            requests_done += 1
    if requests.profiler is not None:
        requests.profiler.dump_stats(args.cprofile)

    hashed = hash_cpu(30)
    print(f"{'request':<32} {'CPU ms':>8} {'queries':>8}")
    totals: dict[str, float] = defaultdict(float)
    for name, cpu in requests.cpu.items():
        median = statistics.median(cpu) * 1000
        kind = name.split(":")[0] if ":" in name else "both"
        totals[kind] += median
        print(f"{name:<32} {median:>8.1f} {statistics.median(requests.queries[name]):>8.0f}")
    login_page = totals.pop("both", 0.0)
    for kind, total in totals.items():
        total += login_page
        print(
            f"{kind + ' sign-in total':<32} {total:>8.1f}   hash {hashed * 1000:.1f} ms = "
            f"{hashed * 1000 / total:.0%}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
