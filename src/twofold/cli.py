"""The ``twofold`` command: the operator's tasks (serve, migrate, create-account, check,
purge-audit, purge-sms, purge-devices, purge-unverified, purge-tokens, check-domains,
verify-domain, create-application, deliver-logouts, rotate-signing-key)."""

from __future__ import annotations

import argparse
import getpass
import math
import os
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from twofold.config.env import TwofoldSettings

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
    """Apply the migrations and create the cache table, one ``twofold migrate`` at a time: a
    second one at once waits for the first, then finds nothing left to do."""
    from django.core.management import call_command
    from django.db import connection

    from twofold.config import schema

    with schema.migration_lock(connection):
        call_command("migrate", interactive=False, verbosity=args.verbosity)
        call_command("createcachetable", verbosity=args.verbosity)
    return 0


def _unready_database() -> str | None:
    """Why the database cannot be served (unreachable, or migrations not applied), in one
    line; None when it can."""
    from django.db import DatabaseError, connection

    from twofold.config import schema

    try:
        missing = schema.pending_migrations(connection)
    except DatabaseError as error:
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        return f"The database cannot be reached: {first_line}"
    return schema.pending_message(missing) if missing else None


def check(args: argparse.Namespace) -> int:
    """Django's checks (with ``--deploy`` in production) plus Twofold's own."""
    from django.conf import settings
    from django.core.management import call_command

    deploy = settings.TWOFOLD.is_production or args.deploy
    call_command("check", deploy=deploy, fail_level="WARNING" if deploy else "ERROR")
    print(f"Twofold configuration is valid ({settings.TWOFOLD.mode} mode).")
    return 0


def gunicorn_arguments(
    application: str, bind: str, workers: int, *, graceful_timeout: int = 30
) -> list[str]:
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
        # On SIGTERM (a deploy, a restart after --max-requests) a worker finishes its requests for
        # this long, longer than the SMS failover (TWOFOLD_GRACEFUL_TIMEOUT, config/env.py); a
        # silent worker is never killed sooner than that either.
        f"--graceful-timeout={graceful_timeout}",
        f"--timeout={graceful_timeout}",
        # No access log by default: a line per request cost 15 % of a session check (issue 7).
        # GUNICORN_CMD_ARGS="--access-logfile=-" turns it on.
        "--forwarded-allow-ips=127.0.0.1",
        # gunicorn's control socket defaults to one path per OS user, which a second instance
        # would take over and delete; Twofold does not use it.
        "--no-control-socket",
        # Its hooks: the workers' metrics summed, the separate metrics listener.
        "--config=python:twofold.config.gunicorn",
    ]


def serve(args: argparse.Namespace) -> int:
    from django.conf import settings
    from django.core.management import call_command

    # The deployment checks too in production: their warnings are printed, an error refuses.
    call_command("check", deploy=settings.TWOFOLD.is_production, fail_level="ERROR")
    # Every request would be a 500 on a database without Twofold's tables: refuse to start.
    problem = _unready_database()
    if problem is not None:
        print(f"twofold serve: {problem}", file=sys.stderr)
        return 1
    twofold = settings.TWOFOLD
    bind = f"{twofold.host}:{twofold.port}"
    _metrics_directory(enabled=bool(twofold.metrics_port or twofold.metrics_token))
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        *gunicorn_arguments(
            "twofold.config.wsgi:application",
            bind,
            twofold.workers,
            graceful_timeout=twofold.graceful_timeout,
        ),
    ]
    print(
        f"Twofold serves on {twofold.public_url} "
        f"({twofold.workers} workers, {THREADS_PER_WORKER} threads each)",
        flush=True,
    )
    print("\n".join(where_messages_go(twofold)), flush=True)
    os.execv(argv[0], argv)  # noqa: S606  (replace this process with gunicorn)


def where_messages_go(twofold: TwofoldSettings) -> list[str]:
    """The start-up lines that tell the operator where emails and texts end up, so that the
    first sign-up's code is found without reading the docs."""
    if twofold.email_backend == "file":
        mail = f"Emails: one .eml file each under {twofold.mail_dir}/"
    elif twofold.email_backend == "console":
        mail = "Emails: printed on this output"
    elif twofold.smtp is not None:
        mail = f"Emails: sent through the SMTP server {twofold.smtp.host}:{twofold.smtp.port}"
    else:
        mail = "Emails: not sent (no SMTP server)"
    sms = twofold.sms
    where = {"outbox": f"appended to {sms.outbox}", "console": "printed on this output"}
    gateways = ", then ".join(where.get(name, f"sent through {name}") for name in sms.gateways)
    return [mail, f"Texts (SMS): {gateways}"]


def _metrics_directory(*, enabled: bool) -> None:
    """With metrics on, a fresh directory for prometheus_client's multiprocess files, named to
    gunicorn and its workers (who inherit the environment) before any of them starts: each
    worker writes its values there and a scrape sums them (config/gunicorn.py). Any directory
    named before is not Twofold's to reuse: old workers' counts would be summed in."""
    import tempfile

    from twofold.config.gunicorn import MULTIPROCESS_DIR

    os.environ.pop(MULTIPROCESS_DIR, None)
    if enabled:
        os.environ[MULTIPROCESS_DIR] = tempfile.mkdtemp(prefix="twofold-metrics-")


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


def purge_unverified(args: argparse.Namespace) -> int:
    """Delete sign-ups that never proved their address nor signed in, 3 days on; run it daily."""
    from twofold import clock
    from twofold.organizations import unverified

    done = unverified.purge_expired(now=clock.now(), dry_run=args.dry_run)
    verb = "Would delete" if args.dry_run else "Deleted"
    print(
        f"{verb} {done.count} unverified sign-up{'' if done.count == 1 else 's'} "
        f"(with {'its' if done.count == 1 else 'their'} account) older than "
        f"{unverified.LIFETIME.days} days (before {done.cutoff:%Y-%m-%d %H:%M} UTC)."
    )
    return 0


def purge_tokens(args: argparse.Namespace) -> int:
    """Delete the identity provider's tokens and codes nothing accepts any more; run it daily."""
    from twofold import clock
    from twofold.idp import expired_tokens

    done = expired_tokens.purge_expired(now=clock.now(), dry_run=args.dry_run)
    verb = "Would delete" if args.dry_run else "Deleted"
    print(
        f"{verb} {done.refresh_tokens} refresh tokens, {done.access_tokens} access tokens, "
        f"{done.id_tokens} ID tokens and {done.codes} authorization codes."
    )
    return 0


def check_domains(args: argparse.Namespace) -> int:
    """Re-check every claimed email domain's TXT record; run it daily (cron, or the scheduler)."""
    from twofold.sso import domain_verification

    print(domain_verification.check_all().line())
    return 0


def verify_domain(args: argparse.Namespace) -> int:
    """Vouch for an account's claim of a domain without DNS (an internal domain, say)."""
    from twofold.errors import Conflict
    from twofold.sso import domain_verification
    from twofold.sso.domains import ascii_domain

    domain = ascii_domain(args.domain) or args.domain
    claims = domain_verification.claims_of(domain, args.account)
    if len(claims) != 1:
        accounts = ", ".join(f"{c.organization_id} ({c.organization.name})" for c in claims)
        reason = f"claimed by the accounts {accounts}: name one with --account" if claims else (
            "claimed by no account" + (f" {args.account}" if args.account else "")
        )  # fmt: skip
        print(f"{domain} is {reason}.", file=sys.stderr)
        return 1
    [claimed] = claims
    try:
        changed = domain_verification.verify_by_operator(claimed)
    except Conflict as error:
        print(f"{domain}: {error.message}", file=sys.stderr)
        return 1
    state = "is now verified" if changed else "was verified already"
    print(f"{domain} {state} for the account {claimed.organization_id} ({claimed.organization}).")
    return 0


def create_application(args: argparse.Namespace) -> int:
    """Register an application that signs its users in through Twofold: instance-wide (the host
    product itself), or an account's with ``--account``. The secret is printed once."""
    from twofold.errors import FlowError
    from twofold.idp import applications
    from twofold.organizations.models import Organization

    organization = None
    if args.account is not None:
        organization = Organization.objects.filter(pk=args.account).first()
        if organization is None:
            print(f"There is no account {args.account}.", file=sys.stderr)
            return 1
    try:
        done = applications.register(
            organization=organization,
            actor=None,
            name=args.name,
            redirect_uris=args.redirect_uri,
            post_logout_redirect_uris=args.post_logout_redirect_uri,
            confidential=not args.public,
            scopes=args.scope,
            backchannel_logout_uri=args.backchannel_logout_uri,
        )
    except FlowError as error:
        print(error.message, file=sys.stderr)
        return 1
    owner = f"the account {organization.pk} ({organization.name})" if organization else "everyone"
    print(f"Registered {done.application.name!r} for {owner}.")
    print(f"client_id: {done.application.client_id}")
    if done.client_secret:
        print(f"client_secret: {done.client_secret}")
        print("The secret is shown once: keep it in the application's configuration now.")
    return 0


def deliver_logouts(args: argparse.Namespace) -> int:
    """Retry the back-channel logouts that are due; run it every minute."""
    from twofold.idp import backchannel

    delivered, failed = backchannel.deliver_due()
    print(f"Delivered {delivered} logout token{'' if delivered == 1 else 's'}; {failed} failed.")
    return 0


RESTART = "Restart every Twofold instance now: each reads its signing keys only at start-up."


def rotate_signing_key(args: argparse.Namespace) -> int:
    """Make a new key the signing key; the one it replaces stays in the JWKS as long as anything
    it signed is accepted (docs/operations.md, "Rotating the signing key")."""
    from django.conf import settings

    from twofold import clock
    from twofold.config import signing_keys
    from twofold.idp.signing_keys import retention

    twofold = settings.TWOFOLD
    if twofold.oidc_key_in_environment:
        return _rotate_key_in_environment(args.out, str(twofold.oidc_private_key), retention())
    if args.out is not None:
        print(
            "--out is for a key given in TWOFOLD_OIDC_PRIVATE_KEY; this one is kept in the data "
            "directory, and rotated there without it.",
            file=sys.stderr,
        )
        return 1
    done = signing_keys.rotate(twofold.data_dir, now=clock.now(), keep_for=retention())
    print(f"The signing key is now {done.kid} ({twofold.data_dir / signing_keys.SIGNING}).")
    print(
        f"The previous key {done.retired.kid} stays published until "
        f"{done.retired.published_until:%Y-%m-%d %H:%M:%S} UTC."
    )
    for dropped in done.dropped:
        print(f"Dropped the key {dropped.kid}: nothing it signed is accepted any more.")
    print(RESTART)
    return 0


def _rotate_key_in_environment(out: Path | None, current: str, keep_for: timedelta) -> int:
    """The environment is the operator's: print the new key (standard output or ``--out``, the
    only places a private key ever goes) and what to change."""
    from twofold.config import signing_keys

    new = signing_keys.new_private_key()
    if out is not None:
        try:
            signing_keys.write_new(out, new + "\n")
        except FileExistsError:  # never over a key: the current one may be in it
            print(f"--out {out} exists: name a file that does not.", file=sys.stderr)
            return 1
        except OSError as error:
            print(f"--out {out} cannot be written: {error.strerror}.", file=sys.stderr)
            return 1
    else:
        print(new, flush=True)
    old = signing_keys.kid_of(current)
    where = f"written to {out} (mode 0600)" if out else "on standard output"
    steps = [
        f"New signing key {signing_keys.kid_of(new)}, {where}.",
        "TWOFOLD_OIDC_PRIVATE_KEY is given in the environment: change it there, the same on "
        "every instance.",
        f"  1. Add the current key {old} to TWOFOLD_OIDC_PREVIOUS_KEYS (or its _FILE): its public "
        "half below, or the private key itself (only the public half is published).",
        "  2. Set TWOFOLD_OIDC_PRIVATE_KEY (or its _FILE) to the new key.",
        f"  3. {RESTART}",
        f"  4. {_duration(keep_for)} after the last instance restarted, remove {old} from "
        "TWOFOLD_OIDC_PREVIOUS_KEYS and restart again: nothing it signed is accepted any more "
        "then.",
        signing_keys.public_key(current),
    ]
    print("\n".join(steps), file=sys.stdout if out else sys.stderr)
    return 0


def backup(args: argparse.Namespace) -> int:
    """Copy the SQLite database (online: Twofold may go on serving) and the data directory's
    keys into the new directory ``args.path`` (docs/operations.md, "Backups")."""
    from django.conf import settings

    from twofold import __version__, clock
    from twofold.config import backup as backups

    database = _sqlite_database("backup", "pg_dump")
    if database is None:
        return 1
    twofold = settings.TWOFOLD
    try:
        made = backups.backup(
            database, twofold.data_dir, args.path, now=clock.now(), version=__version__
        )
    except (backups.BackupError, OSError) as error:
        print(f"twofold backup: {_one_line(error)}", file=sys.stderr)
        return 1
    keys = ", ".join(made.keys) or "none"
    print(
        f"Backed up {database} ({len(made.migrations)} migrations applied) and the keys "
        f"({keys}) to {args.path}."
    )
    given = [
        f"TWOFOLD_{variable}"
        for file, variable in (("secret_key", "SECRET_KEY"), ("factor_key", "FACTOR_KEY"))
        if file not in made.files
    ] + (["TWOFOLD_OIDC_PRIVATE_KEY"] if twofold.oidc_key_in_environment else [])
    if given:
        print(f"Keep {', '.join(given)} with this backup: given in the environment, not in it.")
    return 0


def restore(args: argparse.Namespace) -> int:
    """Put a ``twofold backup`` back, Twofold stopped: checked first, then each file replaced
    whole; an existing database only with ``--force``."""
    from django.conf import settings
    from django.db import connection

    from twofold.config import backup as backups
    from twofold.config import schema

    database = _sqlite_database("restore", "pg_restore or psql")
    if database is None:
        return 1
    try:
        done = backups.restore(args.path, database, settings.TWOFOLD.data_dir, force=args.force)
    except (backups.BackupError, OSError) as error:
        print(f"twofold restore: {_one_line(error)}", file=sys.stderr)
        return 1
    print(
        f"Restored the backup of {done.created_at} (Twofold {done.twofold_version}) to "
        f"{database}, with the keys ({', '.join(done.keys) or 'none'})."
    )
    missing = schema.pending_migrations(connection)
    print(schema.pending_message(missing) if missing else "Start Twofold again.")
    return 0


def _sqlite_database(command: str, instead: str) -> Path | None:
    """The embedded database's file; None (and why, on stderr) on PostgreSQL."""
    from django.db import connection

    if connection.vendor != "sqlite":
        print(
            f"twofold {command} is for the embedded SQLite database; this one is "
            f'{connection.display_name}: use {instead} (docs/operations.md, "Backups").',
            file=sys.stderr,
        )
        return None
    return Path(connection.settings_dict["NAME"])


def _one_line(error: Exception) -> str:
    if isinstance(error, OSError) and error.filename:
        return f"{error.filename}: {error.strerror}."
    return str(error)


def _duration(span: timedelta) -> str:
    """``15 minutes``, ``24 hours and 5 minutes``: rounded up to the minute."""
    hours, minutes = divmod(math.ceil(span / timedelta(minutes=1)), 60)
    parts = [
        f"{n} {unit}{'' if n == 1 else 's'}"
        for n, unit in ((hours, "hour"), (minutes, "minute"))
        if n
    ]
    return " and ".join(parts) or "0 minutes"


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
    p = sub.add_parser(
        "purge-unverified", help="delete sign-ups never verified nor signed in, after 3 days"
    )
    p.add_argument("--dry-run", action="store_true", help="only print how many would go")
    p.set_defaults(run=purge_unverified)
    p = sub.add_parser("purge-tokens", help="delete expired or revoked tokens and codes")
    p.add_argument("--dry-run", action="store_true", help="only print how many would go")
    p.set_defaults(run=purge_tokens)
    p = sub.add_parser("check-domains", help="re-check the claimed email domains' TXT records")
    p.set_defaults(run=check_domains)
    p = sub.add_parser("verify-domain", help="verify an account's claim of a domain without DNS")
    p.add_argument("domain")
    p.add_argument("--account", type=int, help="the account's id, when several claim the domain")
    p.set_defaults(run=verify_domain)
    p = sub.add_parser(
        "create-application", help="register an application that signs in through Twofold"
    )
    p.add_argument("--name", required=True)
    p.add_argument("--redirect-uri", action="append", required=True, help="exact; repeatable")
    p.add_argument("--post-logout-redirect-uri", action="append", default=[])
    p.add_argument("--backchannel-logout-uri", default="", help="where Twofold POSTs logout tokens")
    p.add_argument("--scope", action="append", help="openid, profile, email (default: all)")
    p.add_argument("--public", action="store_true", help="a public client (no secret; PKCE)")
    p.add_argument("--account", type=int, help="the account's id; instance-wide without it")
    p.set_defaults(run=create_application)
    p = sub.add_parser(
        "deliver-logouts", help="retry the back-channel logouts that are due (every minute)"
    )
    p.set_defaults(run=deliver_logouts)
    p = sub.add_parser(
        "rotate-signing-key",
        help="sign with a new key; the old one stays published while what it signed is accepted",
    )
    p.add_argument(
        "--out",
        type=Path,
        help="with TWOFOLD_OIDC_PRIVATE_KEY: write the new key to this new file, not to stdout",
    )
    p.set_defaults(run=rotate_signing_key)
    p = sub.add_parser(
        "backup", help="copy the SQLite database and the keys into a new directory, online"
    )
    p.add_argument("path", type=Path, help="a new (or empty) directory")
    p.set_defaults(run=backup)
    p = sub.add_parser("restore", help="put a backup back (Twofold stopped)")
    p.add_argument("path", type=Path, help="the directory twofold backup made")
    p.add_argument("--force", action="store_true", help="replace an existing database")
    p.set_defaults(run=restore)
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
