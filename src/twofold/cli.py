"""The ``twofold`` command: the operator's tasks (serve, migrate, create-account, check,
purge-audit, purge-sms, purge-devices)."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Sequence

THREADS_PER_WORKER = 4


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "twofold.config.settings")
    from twofold.config.env import ConfigurationError

    try:
        import django

        django.setup()
    except ConfigurationError as error:
        sys.exit(str(error))


def migrate(args: argparse.Namespace) -> int:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=args.verbosity)
    call_command("createcachetable", verbosity=args.verbosity)
    return 0


def check(args: argparse.Namespace) -> int:
    """Django's checks (with ``--deploy`` in production) plus Twofold's own."""
    from django.conf import settings
    from django.core.management import call_command

    deploy = settings.TWOFOLD.is_production or args.deploy
    call_command("check", deploy=deploy, fail_level="WARNING" if deploy else "ERROR")
    print(f"Twofold configuration is valid ({settings.TWOFOLD.mode} mode).")
    return 0


def gunicorn_arguments(application: str, bind: str, workers: int) -> list[str]:
    """How Twofold runs gunicorn (``python -m bench.baseline`` serves its comparisons so too)."""
    return [
        application,
        f"--bind={bind}",
        f"--workers={workers}",
        # Threads keep HTTP connections alive (sync workers close each one); argon2 hashes
        # release the GIL, so a worker's threads sign in side by side.
        "--worker-class=gthread",
        f"--threads={THREADS_PER_WORKER}",
        "--max-requests=20000",
        "--max-requests-jitter=2000",
        # No access log by default: a line per request cost 15 % of a session check (issue 7).
        # GUNICORN_CMD_ARGS="--access-logfile=-" turns it on.
        "--forwarded-allow-ips=127.0.0.1",
        # gunicorn's control socket defaults to one path per OS user, which a second instance
        # would take over and delete; Twofold does not use it.
        "--no-control-socket",
    ]


def serve(args: argparse.Namespace) -> int:
    from django.conf import settings
    from django.core.management import call_command

    call_command("check", fail_level="ERROR")
    twofold = settings.TWOFOLD
    bind = f"{twofold.host}:{twofold.port}"
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        *gunicorn_arguments("twofold.config.wsgi:application", bind, twofold.workers),
    ]
    print(
        f"Twofold serves on {twofold.public_url} "
        f"({twofold.workers} workers, {THREADS_PER_WORKER} threads each)",
        flush=True,
    )
    os.execv(argv[0], argv)  # noqa: S606  (replace this process with gunicorn)


def create_account(args: argparse.Namespace) -> int:
    """Create an account (organization) and its first administrator."""
    from django.contrib.auth import password_validation
    from django.core.exceptions import ValidationError
    from django.db import transaction

    from twofold.organizations.flows import create_organization
    from twofold.users.models import User

    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass()
    email = args.email.strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        print(f"{email} already has a Twofold account.", file=sys.stderr)
        return 1
    try:
        password_validation.validate_password(password, User(email=email))
    except ValidationError as error:
        print("\n".join(error.messages), file=sys.stderr)
        return 1
    from allauth.account.models import EmailAddress

    with transaction.atomic():
        user = User.objects.create_user(email, password)
        EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
        create_organization(user, args.name)
    print(f"Created account {args.name!r} with administrator {email}.")
    return 0


def purge_audit(args: argparse.Namespace) -> int:
    """Delete audit events older than ``TWOFOLD_AUDIT_RETENTION_DAYS``; run it daily."""
    from django.conf import settings

    from twofold import clock
    from twofold.audit import retention

    days = settings.TWOFOLD.audit_retention_days
    done = retention.purge(now=clock.now(), retention_days=days, dry_run=args.dry_run)
    verb = "Would delete" if args.dry_run else "Deleted"
    print(
        f"{verb} {done.count} audit event{'' if done.count == 1 else 's'} older than {days} days "
        f"(before {done.cutoff:%Y-%m-%d %H:%M} UTC)."
    )
    return 0


def purge_sms(args: argparse.Namespace) -> int:
    """Delete SMS codes and delivery records no rule needs any more; run it daily."""
    from twofold import clock
    from twofold.factors.sms.cleanup import purge_old_sms_rows

    done = purge_old_sms_rows(now=clock.now(), dry_run=args.dry_run)
    verb = "Would delete" if args.dry_run else "Deleted"
    print(f"{verb} {done.codes} expired SMS codes and {done.deliveries} old SMS delivery records.")
    return 0


def purge_devices(args: argparse.Namespace) -> int:
    """Delete remembered devices past their 30 days; run it daily."""
    from twofold import clock
    from twofold.signin import remembered

    count = remembered.purge_expired(now=clock.now(), dry_run=args.dry_run)
    verb = "Would delete" if args.dry_run else "Deleted"
    print(f"{verb} {count} expired remembered device{'' if count == 1 else 's'}.")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="twofold", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="serve Twofold with gunicorn").set_defaults(run=serve)
    p = sub.add_parser("migrate", help="create or update the database")
    p.add_argument("-v", "--verbosity", type=int, default=1)
    p.set_defaults(run=migrate)
    p = sub.add_parser("check", help="check the configuration and the deployment")
    p.add_argument("--deploy", action="store_true", help="run deployment checks in any mode")
    p.set_defaults(run=check)
    p = sub.add_parser("create-account", help="create an account and its first administrator")
    p.add_argument("--email", required=True)
    p.add_argument("--name", required=True, help="the account (company) name")
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    p.set_defaults(run=create_account)
    p = sub.add_parser("purge-audit", help="delete audit events older than the retention")
    p.add_argument("--dry-run", action="store_true", help="only print how many would go")
    p.set_defaults(run=purge_audit)
    p = sub.add_parser("purge-sms", help="delete expired SMS codes and old delivery records")
    p.add_argument("--dry-run", action="store_true", help="only print how many would go")
    p.set_defaults(run=purge_sms)
    p = sub.add_parser("purge-devices", help="delete remembered devices past their expiry")
    p.add_argument("--dry-run", action="store_true", help="only print how many would go")
    p.set_defaults(run=purge_devices)
    args = parser.parse_args(argv)
    _setup_django()
    from django.core.management import CommandError

    try:
        return int(args.run(args))
    except CommandError as error:
        print(error, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
