"""``make bench``: seed, serve, drive sign-ins at several concurrencies, measure the argon2id
ceiling and session checks, print the report as Markdown tables (docs/performance.md).

Options come as arguments (``make bench BENCH_ARGS="--members 100000 --duration 30"``);
``BENCH_DATABASE_URL`` runs on that PostgreSQL database instead of SQLite (it is emptied);
``BENCH_REDIS_URL`` puts the cache and sessions in that Redis (emptied too), as several
instances would.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from bench import ceiling, driver, oidc, soak
from bench.population import PASSWORD, Member, members

REPO_ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# The targets of issue 7 (2 cores, driver on the same machine).
TARGET_RATIO = {"password + SMS": 0.70, "password only": 0.85}
TARGET_SESSION_CHECKS = 4000
KINDS = ("password + SMS", "password only")


# --- The server --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_environment(data_dir: Path, port: int) -> dict[str, str]:
    """The caller's environment without its Twofold settings (``TWOFOLD_ARGON2_*`` excepted, to
    benchmark other hash parameters), plus the benchmark's."""
    environ = {
        name: value
        for name, value in os.environ.items()
        if (not name.startswith("TWOFOLD_") or name.startswith("TWOFOLD_ARGON2_"))
        and name != "DJANGO_SETTINGS_MODULE"
    }
    environ.update(
        TWOFOLD_DATA_DIR=str(data_dir),
        TWOFOLD_HOST="127.0.0.1",
        TWOFOLD_PORT=str(port),
        TWOFOLD_SMS_GATEWAYS="outbox",
        TWOFOLD_LOG_LEVEL="WARNING",
        # Every sign-in comes from its own address in X-Forwarded-For (driver.py).
        TWOFOLD_TRUSTED_PROXY_COUNT="1",
        # Members sign in again and again, which people do not: the shortest cooldown and
        # daily limits that do not stop the run.
        TWOFOLD_SMS_RESEND_COOLDOWN="10",
        TWOFOLD_SMS_LIMIT_PER_NUMBER="1000000",
        TWOFOLD_SMS_LIMIT_PER_USER="1000000",
        TWOFOLD_SMS_LIMIT_PER_ORGANIZATION="1000000",
        XDG_RUNTIME_DIR=str(data_dir),
        PYTHONPATH=str(REPO_ROOT),
    )
    database_url = os.environ.get("BENCH_DATABASE_URL")
    if database_url:
        environ["TWOFOLD_DATABASE_URL"] = database_url
    redis_url = os.environ.get("BENCH_REDIS_URL")
    if redis_url:
        environ["TWOFOLD_REDIS_URL"] = redis_url
    return environ


def _run(args: list[str], environ: dict[str, str], timeout: float = 3600) -> str:
    done = subprocess.run(
        [PYTHON, *args], env=environ, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def prepare_database(environ: dict[str, str], count: int) -> dict[str, object]:
    _run(["-m", "twofold.cli", "migrate", "--verbosity", "0"], environ)
    django = {**environ, "DJANGO_SETTINGS_MODULE": "twofold.config.settings"}
    if "TWOFOLD_DATABASE_URL" in environ:
        _run(["-m", "django", "flush", "--no-input"], django)
    seeded: dict[str, object] = json.loads(
        _run(["-m", "bench.seed", "--members", str(count)], django).splitlines()[-1]
    )
    return seeded


def _healthy(url: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"{url}/healthz", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


@contextmanager
def serving(
    environ: dict[str, str], url: str, log: Path, command: list[str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """``twofold serve`` (gunicorn, its default worker count), or ``command``, until the block
    ends; ready once ``/healthz`` answers."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            command or [PYTHON, "-m", "twofold.cli", "serve"],
            env=environ,
            cwd=REPO_ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while not _healthy(url):
            if process.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"the server did not start:\n{log.read_text(errors='replace')}")
            time.sleep(0.1)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _stat(pid: int | str) -> list[str]:
    raw = Path(f"/proc/{pid}/stat").read_text()
    # The command name (field 2) may hold spaces: split after its closing parenthesis.
    return raw[raw.rindex(")") + 2 :].split()


def server_cpu_seconds(master: int) -> float:
    """User + system CPU of the gunicorn master, its live workers and its reaped ones."""
    fields = _stat(master)  # fields[0] is field 3 (state) of proc(5)
    ticks = sum(int(fields[i]) for i in (11, 12, 13, 14))  # utime stime cutime cstime
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            child = _stat(entry.name)
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
        if int(child[1]) == master:  # ppid
            ticks += int(child[11]) + int(child[12])
    return ticks / CLOCK_TICKS


def measured_load(
    label: str,
    url: str,
    master: int,
    pool: driver.MemberPool,
    outbox: driver.Outbox,
    concurrency: int,
    seconds: float,
) -> tuple[driver.LoadResult, float]:
    """One level of load, with the server CPU it took (seconds); its outcome printed."""
    before = server_cpu_seconds(master)
    result = driver.run_load(url, pool, outbox, concurrency, seconds)
    cpu = server_cpu_seconds(master) - before
    print(
        f"  {label}, concurrency {concurrency}: {result.per_second:.1f}/s, "
        f"{len(result.errors)} errors",
        flush=True,
    )
    for error in result.errors[:3]:
        print(f"    {error}", flush=True)
    return result, cpu


def worker_count(master: int) -> int:
    count = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                count += int(_stat(entry.name)[1]) == master
            except (FileNotFoundError, ProcessLookupError, ValueError):
                continue
    return count


# --- Session checks ----------------------------------------------------------------------------


def session_cookie(url: str, member: Member) -> str:
    """Sign ``member`` (password only) in and return the session cookie header."""
    with requests.Session() as browser:
        browser.trust_env = False
        page = browser.get(f"{url}/accounts/login/", timeout=30)
        form = {
            "login": member.email,
            "password": PASSWORD,
            "csrfmiddlewaretoken": driver.csrf_token(page.text),
        }
        browser.post(f"{url}/accounts/login/", data=form, timeout=30)
        me = browser.get(f"{url}/api/v1/me", timeout=30)
        named = me.json().get("data", {}).get("user", {}).get("email") if me.ok else None
        if named != member.email:
            sys.exit(f"/api/v1/me did not name {member.email}: {me.status_code} {me.text[:200]}")
        return "; ".join(f"{name}={value}" for name, value in browser.cookies.items())


@dataclass(frozen=True)
class SessionChecks:
    tool: str
    connections: int
    per_second: float
    errors: int


def session_checks(
    url: str, cookie: str, seconds: float, path: str = "/api/v1/me"
) -> SessionChecks:
    """Signed-in requests to ``path`` for ``seconds``: wrk when installed, else Python threads."""
    if shutil.which("wrk"):
        return session_checks_wrk(url, cookie, seconds, path)
    return session_checks_python(url, cookie, seconds, path)


def session_checks_wrk(
    url: str, cookie: str, seconds: float, path: str = "/api/v1/me"
) -> SessionChecks:
    wrk = shutil.which("wrk")
    assert wrk is not None
    connections = 16
    done = subprocess.run(
        [
            wrk,
            "-t2",
            f"-c{connections}",
            f"-d{int(seconds)}s",
            "-H",
            f"Cookie: {cookie}",
            url + path,
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=True,
    )
    rate = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
    if rate is None:
        sys.exit(f"cannot read wrk's output:\n{done.stdout}")
    errors = sum(
        int(n) for n in re.findall(r"(?:Non-2xx or 3xx responses|timeout)\D*(\d+)", done.stdout)
    )
    return SessionChecks("wrk", connections, float(rate.group(1)), errors)


def session_checks_python(
    url: str, cookie: str, seconds: float, path: str = "/api/v1/me"
) -> SessionChecks:
    connections = 8
    counts = [0, 0]  # ok, errors
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def check() -> None:
        with requests.Session() as client:
            client.trust_env = False
            client.headers["Cookie"] = cookie
            while time.monotonic() < deadline:
                ok = client.get(url + path, timeout=30).status_code == 200
                with lock:
                    counts[0 if ok else 1] += 1

    threads = [threading.Thread(target=check) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return SessionChecks("Python driver", connections, counts[0] / seconds, counts[1])


# The checks measured side by side: the host application's, and a reverse proxy's forward-auth.
CHECKS = {"GET /api/v1/me": "/api/v1/me", "GET /auth/forward": "/auth/forward"}


@dataclass(frozen=True)
class CheckRun:
    """One run of a check, and the server's CPU during it (less moved by other load on the
    machine than requests/s)."""

    checks: SessionChecks
    seconds: float
    server_cpu: float

    @property
    def per_second(self) -> float:
        return self.checks.per_second

    @property
    def cpu_per_check(self) -> float:
        done = self.checks.per_second * self.seconds
        return self.server_cpu / done if done else float("nan")


def checks_side_by_side(
    url: str, cookie: str, seconds: float, master: int | None = None
) -> dict[str, list[CheckRun]]:
    """Each check twice, in the order A B B A, so that a machine getting faster or slower
    during the runs favours neither; with ``master``, the server's CPU of each run."""
    names = list(CHECKS)
    measured: dict[str, list[CheckRun]] = {name: [] for name in names}
    for name in [*names, *reversed(names)]:
        before = server_cpu_seconds(master) if master else 0.0
        checks = session_checks(url, cookie, seconds, CHECKS[name])
        cpu = server_cpu_seconds(master) - before if master else 0.0
        measured[name].append(CheckRun(checks, seconds, cpu))
        print(f"  {name}: {checks.per_second:,.0f}/s", flush=True)
    return measured


def checks_table(measured: dict[str, list[CheckRun]], seconds: float) -> list[str]:
    first = next(iter(measured.values()))[0].checks
    lines = [
        f"{first.tool}, {first.connections} connections, {seconds:.0f} s per run, "
        "runs in the order A B B A:",
        "",
        "| check | requests/s (mean) | runs | server CPU µs/check (mean) | errors |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, runs in measured.items():
        mean = sum(run.per_second for run in runs) / len(runs)
        each = " / ".join(f"{run.per_second:,.0f}" for run in runs)
        cpu = sum(run.cpu_per_check for run in runs) / len(runs) * 1e6
        errors = sum(run.checks.errors for run in runs)
        lines.append(f"| {name} | {mean:,.0f} | {each} | {cpu:,.0f} | {errors} |")
    return lines


# --- Report ------------------------------------------------------------------------------------


def machine() -> str:
    model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.partition(":")[2].strip()
            break
    return f"{os.cpu_count()} cores, {model}"


def load_table(
    results: list[tuple[driver.LoadResult, float]], hashes_per_second: float
) -> list[str]:
    lines = [
        "| concurrency | sign-ins | sign-ins/s | p50 ms | p95 ms | p99 ms | errors "
        "| server CPU ms/sign-in | driver CPU ms/sign-in | ÷ ceiling |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for result, cpu in results:
        ms = [driver.percentile(result.latencies, p) * 1000 for p in (50, 95, 99)]
        done = len(result.latencies)
        server = f"{cpu / done * 1000:.1f}" if done else "-"
        load = f"{result.driver_cpu / done * 1000:.1f}" if done else "-"
        lines.append(
            f"| {result.concurrency} | {done} | {result.per_second:.1f} "
            f"| {ms[0]:.0f} | {ms[1]:.0f} | {ms[2]:.0f} | {len(result.errors)} "
            f"| {server} | {load} | {result.per_second / hashes_per_second:.2f} |"
        )
    return lines


# Sign-in throughput must not fall, nor memory grow, over a long run at 80 % of the maximum.
SOAK_SHARE = 0.8
TARGET_MEMORY_GROWTH = 0.10


def soak_at_80_percent(
    url: str,
    master: int,
    pools: dict[str, driver.MemberPool],
    outbox: driver.Outbox,
    results: dict[str, list[tuple[driver.LoadResult, float]]],
    args: argparse.Namespace,
) -> soak.SoakResult:
    """The soak alternates the two kinds, so its maximum is their harmonic mean."""
    best = [max(result.per_second for result, _ in results[kind]) for kind in KINDS]
    rate = SOAK_SHARE * len(best) / sum(1 / b for b in best)
    print(f"Soak: {rate:.1f} sign-ins/s for {args.soak_minutes:g} minutes ...", flush=True)
    soaked = soak.run_soak(
        url, [pools[kind] for kind in KINDS], outbox, master, rate, args.soak_minutes * 60
    )
    print(f"  {soaked.completed} sign-ins, {len(soaked.errors)} errors", flush=True)
    for error in soaked.errors[:3]:
        print(f"    {error}", flush=True)
    return soaked


def soak_report(soaked: soak.SoakResult) -> list[str]:
    ms = [driver.percentile(soaked.latencies, p) * 1000 for p in (50, 95, 99)]
    kib = [m for _, m in soaked.memory]
    return [
        f"### Soak ({soaked.seconds / 60:.0f} minutes at {SOAK_SHARE:.0%} of the best rate)",
        "",
        "| rate /s | sign-ins | errors | p50 ms | p95 ms | p99 ms "
        "| server memory first → last minute | growth |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {soaked.rate:.1f} | {soaked.completed} | {len(soaked.errors)} "
        f"| {ms[0]:.0f} | {ms[1]:.0f} | {ms[2]:.0f} "
        f"| {kib[0] / 1024:.0f} → {kib[-1] / 1024:.0f} MiB "
        f"| {soaked.memory_growth():+.1%} (target < {TARGET_MEMORY_GROWTH:.0%}) |",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=1000, help="seeded members (1,000)")
    parser.add_argument("--concurrency", default="1,2,4,8", help="browsers at once (1,2,4,8)")
    parser.add_argument("--duration", type=float, default=6, help="seconds per level (6)")
    parser.add_argument("--ceiling-seconds", type=float, default=5, help="argon2id run (5)")
    parser.add_argument(
        "--session-seconds",
        type=float,
        default=5,
        help="each run of /api/v1/me and /auth/forward (5; two runs each)",
    )
    parser.add_argument(
        "--token-seconds",
        type=float,
        default=5,
        help="code flows, then refresh grants, at the identity provider's token endpoint (5)",
    )
    parser.add_argument(
        "--soak-minutes",
        type=float,
        default=0,
        help="then sign in at 80%% of the best rate for this long, memory sampled (0: no soak)",
    )
    parser.add_argument(
        "--workers", type=int, help="gunicorn worker processes (default: 2 per core + 1)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args()
    concurrencies = [int(c) for c in args.concurrency.split(",")]

    data_dir = Path(tempfile.mkdtemp(prefix="twofold-bench-"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    environ = server_environment(data_dir, port)
    if args.workers:
        environ["TWOFOLD_WORKERS"] = str(args.workers)
    database = "PostgreSQL" if "TWOFOLD_DATABASE_URL" in environ else "SQLite"
    if "TWOFOLD_REDIS_URL" in environ:
        database += " + Redis"
    print(f"Seeding {args.members:,} members on {database} in {data_dir} ...", flush=True)
    seeded = prepare_database(environ, args.members)
    params: dict[str, int] = seeded["argon2"]  # type: ignore[assignment]
    print(f"Seeded in {seeded['seconds']} s; argon2id {params}", flush=True)

    population = members(args.members)
    pools = {
        "password + SMS": driver.MemberPool([m for m in population if m.has_sms], rest=11),
        "password only": driver.MemberPool([m for m in population if not m.has_sms], rest=0),
    }
    outbox = driver.Outbox(data_dir / "sms-outbox.jsonl")
    results: dict[str, list[tuple[driver.LoadResult, float]]] = {kind: [] for kind in KINDS}
    # The ceiling before and after the load: when they differ, something else shared the
    # machine. The ratio is taken to the higher one (the less flattering).
    print("Measuring the argon2id ceiling ...", flush=True)
    before_load = ceiling.measure(params, args.ceiling_seconds)
    load_average = [os.getloadavg()[0]]
    try:
        with serving(environ, url, data_dir / "server.log") as server:
            workers = worker_count(server.pid)
            print(f"Serving on {url} with {workers} workers", flush=True)
            for kind in KINDS:  # warm up every worker: imports, templates, connections
                driver.run_load(url, pools[kind], outbox, max(workers, 2), 2)
            for concurrency in concurrencies:
                for kind in KINDS:
                    results[kind].append(
                        measured_load(
                            kind, url, server.pid, pools[kind], outbox, concurrency, args.duration
                        )
                    )
            if args.soak_minutes:
                soaked = soak_at_80_percent(url, server.pid, pools, outbox, results, args)
            cookie = session_cookie(url, next(m for m in population if not m.has_sms))
            print("Session checks ...", flush=True)
            measured = checks_side_by_side(url, cookie, args.session_seconds, server.pid)
            print("Token endpoint ...", flush=True)
            application = oidc.register(environ)
            tokens = [
                oidc.code_flows(url, application, cookie, args.token_seconds),
                oidc.refresh_grants(url, application, cookie, args.token_seconds),
            ]
            for rate in tokens:
                print(f"  {rate.name}: {rate.per_second:,.0f}/s", flush=True)
        load_average.append(os.getloadavg()[0])
        print("Measuring the argon2id ceiling again ...", flush=True)
        after_load = ceiling.measure(params, args.ceiling_seconds)
    finally:
        if args.keep:
            print(f"Data directory kept: {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)

    top = max(before_load, after_load, key=lambda measured: measured.per_second)
    report = [
        "",
        f"Machine: {machine()}; {database}; {args.members:,} members in accounts of 10, "
        f"{workers} gunicorn workers; load driver on the same machine.",
        f"argon2id: memory {params['memory_cost']} KiB, time cost {params['time_cost']}, "
        f"parallelism {params['parallelism']}.",
        f"Ceiling: {top.per_second:.1f} argon2id verifications/s ({top.processes} processes, "
        f"{top.seconds:.0f} s; {before_load.per_second:.1f} before the load, "
        f"{after_load.per_second:.1f} after). Load average {load_average[0]:.1f} before the "
        f"load, {load_average[1]:.1f} at its end.",
        "",
    ]
    summary: dict[str, object] = {"ceiling_per_second": top.per_second}
    for kind in KINDS:
        best = max(result.per_second for result, _ in results[kind])
        ratio = best / top.per_second
        summary[kind] = {"best_per_second": best, "ratio": ratio}
        report += [
            f"### {kind}",
            "",
            *load_table(results[kind], top.per_second),
            "",
            f"Best: {best:.1f} sign-ins/s = {ratio:.2f} of the ceiling "
            f"(target ≥ {TARGET_RATIO[kind]:.2f}).",
            "",
        ]
    means = {
        name: sum(run.per_second for run in runs) / len(runs) for name, runs in measured.items()
    }
    summary["session_checks_per_second"] = means["GET /api/v1/me"]
    summary["forward_auth_checks_per_second"] = means["GET /auth/forward"]
    report += [
        "### Session checks (GET /api/v1/me) and forward-auth checks (GET /auth/forward)",
        "",
        *checks_table(measured, args.session_seconds),
        "",
        f"Target for GET /api/v1/me: ≥ {TARGET_SESSION_CHECKS:,} requests/s; GET /auth/forward "
        "at least as fast as GET /api/v1/me.",
        "",
        "### The identity provider's token endpoint",
        "",
        *oidc.table(tokens, args.token_seconds),
    ]
    summary["code_flows_per_second"] = tokens[0].per_second
    summary["refresh_grants_per_second"] = tokens[1].per_second
    if args.soak_minutes:
        report += ["", *soak_report(soaked)]
        summary["soak"] = {
            "rate": soaked.rate,
            "errors": len(soaked.errors),
            "memory_growth": soaked.memory_growth(),
        }
    print("\n".join(report))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n")
    failed = sum(len(r.errors) for kind in KINDS for r, _ in results[kind])
    if args.soak_minutes:
        failed += len(soaked.errors)
    check_errors = sum(run.checks.errors for runs in measured.values() for run in runs)
    check_errors += sum(rate.errors for rate in tokens)
    return 1 if failed or check_errors else 0
