"""``python -m bench.baseline``: the same password-only sign-in (GET the login page, POST email
and password, the signed-in page naming the member) against Twofold, a stock django-allauth
project and bare Django, one after another on the same machine, server (gunicorn as
``twofold serve`` runs it), database (SQLite, WAL) and argon2id parameters, each divided by the
argon2id ceiling measured in the same run. What the stack costs apart from what Twofold adds."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench import ceiling, driver, run
from bench.population import members
from twofold.cli import gunicorn_arguments

FLAVOURS = {
    "twofold": "Twofold (allauth underneath, its stages, audit, device list, timeouts)",
    "allauth": "stock django-allauth 65 (its LoginView and templates, email login)",
    "django": "bare Django (django.contrib.auth's LoginView, no allauth)",
}


def _baseline_environment(flavour: str, data_dir: Path) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    environ.update(
        DJANGO_SETTINGS_MODULE="bench.baseline.settings",
        BASELINE_FLAVOUR=flavour,
        BASELINE_DATA_DIR=str(data_dir),
        PYTHONPATH=str(run.REPO_ROOT),
    )
    return environ


def _prepare(
    flavour: str, data_dir: Path, port: int, count: int
) -> tuple[dict[str, str], list[str] | None]:
    """The server's environment and command (``None``: ``twofold serve``), the data seeded."""
    if flavour == "twofold":
        environ = run.server_environment(data_dir, port)
        run.prepare_database(environ, count)
        return environ, None
    environ = _baseline_environment(flavour, data_dir)
    seeded = subprocess.run(
        [run.PYTHON, "-m", "bench.baseline.seed", str(count)],
        env=environ,
        cwd=run.REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if seeded.returncode:
        sys.exit(f"seeding the {flavour} baseline failed:\n{seeded.stderr}")
    workers = 2 * (os.cpu_count() or 1) + 1  # Twofold's default
    bind = f"127.0.0.1:{port}"
    return environ, [
        run.PYTHON,
        "-m",
        "gunicorn",
        *gunicorn_arguments("bench.baseline.wsgi:application", bind, workers),
    ]


@dataclass
class Measured:
    sign_ins: list[tuple[driver.LoadResult, float]]  # each with the server's CPU seconds
    signed_in_page: float  # requests/s
    me: float


def measure(
    flavour: str, count: int, concurrencies: list[int], seconds: float, session_seconds: float
) -> Measured:
    data_dir = Path(tempfile.mkdtemp(prefix=f"twofold-baseline-{flavour}-"))
    try:
        port = run.free_port()
        url = f"http://127.0.0.1:{port}"
        environ, command = _prepare(flavour, data_dir, port, count)
        pool = driver.MemberPool([m for m in members(count) if not m.has_sms], rest=0)
        outbox = driver.Outbox(data_dir / "sms-outbox.jsonl")  # never written: no 2FA here
        results = []
        with run.serving(environ, url, data_dir / "server.log", command) as server:
            driver.run_load(url, pool, outbox, run.worker_count(server.pid), 2)  # warm up
            for concurrency in concurrencies:
                results.append(
                    run.measured_load(flavour, url, server.pid, pool, outbox, concurrency, seconds)
                )
            cookie = run.session_cookie(url, next(m for m in members(count) if not m.has_sms))
            checks = {
                path: run.session_checks(url, cookie, session_seconds, path)
                for path in ("/", "/api/v1/me")
            }
        if any(c.errors for c in checks.values()):
            sys.exit(f"{flavour}: session checks failed: {checks}")
        return Measured(results, checks["/"].per_second, checks["/api/v1/me"].per_second)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=1000, help="seeded members (1,000)")
    parser.add_argument("--concurrency", default="4,8", help="browsers at once (4,8)")
    parser.add_argument("--duration", type=float, default=8, help="seconds per level (8)")
    parser.add_argument("--ceiling-seconds", type=float, default=5, help="argon2id run (5)")
    parser.add_argument(
        "--session-seconds", type=float, default=5, help="each session-check run (5)"
    )
    parser.add_argument(
        "--flavours", default=",".join(FLAVOURS), help=f"of {', '.join(FLAVOURS)} (all)"
    )
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args()
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    flavours = args.flavours.split(",")
    unknown = set(flavours) - set(FLAVOURS)
    if unknown:
        parser.error(f"unknown flavours: {', '.join(sorted(unknown))}")

    params = {
        "memory_cost": int(os.environ.get("TWOFOLD_ARGON2_MEMORY_KIB", "19456")),
        "time_cost": int(os.environ.get("TWOFOLD_ARGON2_TIME_COST", "2")),
        "parallelism": int(os.environ.get("TWOFOLD_ARGON2_PARALLELISM", "1")),
    }
    print("Measuring the argon2id ceiling ...", flush=True)
    ceilings = [ceiling.measure(params, args.ceiling_seconds)]
    results = {}
    for flavour in flavours:
        print(f"{FLAVOURS[flavour]}: seeding {args.members:,} members, serving ...", flush=True)
        results[flavour] = measure(
            flavour, args.members, concurrencies, args.duration, args.session_seconds
        )
    print("Measuring the argon2id ceiling again ...", flush=True)
    ceilings.append(ceiling.measure(params, args.ceiling_seconds))
    top = max(c.per_second for c in ceilings)

    report = [
        "",
        f"Machine: {run.machine()}; SQLite; {args.members:,} members; gunicorn as "
        "`twofold serve` runs it; load driver on the same machine; password-only sign-ins.",
        f"Ceiling: {top:.1f} argon2id verifications/s ({ceilings[0].per_second:.1f} before, "
        f"{ceilings[1].per_second:.1f} after); memory {params['memory_cost']} KiB, "
        f"time cost {params['time_cost']}, parallelism {params['parallelism']}.",
        "",
        "| project | password sign-ins/s (÷ ceiling) | server CPU ms/sign-in "
        "| signed-in page req/s | `/api/v1/me` req/s |",
        "|---|---:|---:|---:|---:|",
    ]
    summary: dict[str, object] = {"ceiling_per_second": top}
    for flavour in flavours:
        measured = results[flavour]
        best, cpu = max(measured.sign_ins, key=lambda pair: pair[0].per_second)
        done = len(best.latencies)
        per_sign_in = f"{cpu / done * 1000:.1f}" if done else "-"
        report.append(
            f"| {FLAVOURS[flavour]} | {best.per_second:.1f} ({best.per_second / top:.2f}) "
            f"| {per_sign_in} | {measured.signed_in_page:,.0f} | {measured.me:,.0f} |"
        )
        summary[flavour] = {
            "best_per_second": best.per_second,
            "ratio": best.per_second / top,
            "signed_in_page_per_second": measured.signed_in_page,
            "me_per_second": measured.me,
        }
    report += [
        "",
        "Session checks: signed in, wrk (2 threads, 16 connections) when installed. "
        "`/api/v1/me` is Twofold's session check; in the baselines a view answering the same "
        "JSON from `request.user`.",
    ]
    for flavour in flavours:
        report += [
            "",
            f"### {FLAVOURS[flavour]}",
            "",
            *run.load_table(results[flavour].sign_ins, top),
        ]
    print("\n".join(report))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n")
    failed = sum(len(r.errors) for flavour in flavours for r, _ in results[flavour].sign_ins)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
