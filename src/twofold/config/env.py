"""Twofold's configuration: every ``TWOFOLD_*`` environment variable, read once, typed.

Start-up refuses a missing or contradictory setting with a message that says what to set
(STYLE.md rule 9). Secrets are wrapped in :class:`Secret` so that they never print.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import math
import os
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, TypeVar, cast
from urllib.parse import urlsplit

from twofold.config import signing_keys
from twofold.config import sms as sms_config
from twofold.config import sso as sso_config
from twofold.config.logs import LogFormat
from twofold.config.secret import Secret
from twofold.config.signing_keys import new_private_key as new_private_key  # re-exported
from twofold.config.signing_keys import valid_private_key
from twofold.config.sms import SmsSettings
from twofold.config.sso import SsoSettings

PREFIX = "TWOFOLD_"

Mode = Literal["development", "production"]
EmailBackend = Literal["file", "console", "smtp"]
EmailVerification = Literal["mandatory", "optional", "none"]
SmtpSecurity = Literal["starttls", "tls", "none"]

T = TypeVar("T")


# The names of this machine's loopback address a person types (``make run``).
LOOPBACK_NAMES = ("localhost", "127.0.0.1")


class ConfigurationError(Exception):
    """A setting is missing, malformed or contradicts another one."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    username: str
    password: Secret
    security: SmtpSecurity


@dataclass(frozen=True)
class TwofoldSettings:
    mode: Mode
    data_dir: Path
    secret_key: Secret
    factor_key: Secret
    oidc_private_key: Secret  # PEM: the identity provider's signing key (docs/identity-provider.md)
    # Public PEMs of retired (or next) keys, published in the JWKS beside it but never signing.
    oidc_previous_keys: tuple[str, ...]
    # Given by OIDC_PRIVATE_KEY(_FILE); else kept, and rotated, in the data directory.
    oidc_key_in_environment: bool
    host: str
    port: int
    public_url: str
    allowed_hosts: tuple[str, ...]
    # Hosts forward-auth may send a browser back to (docs/forward-auth.md): ``app.example.com``,
    # ``app.example.com:8443`` (that port only), ``.example.com`` (the domain and its subdomains).
    forward_auth_hosts: tuple[str, ...]
    cookie_domain: str | None  # the session and CSRF cookies' Domain, for sibling subdomains
    database_url: Secret | None
    redis_url: Secret | None
    workers: int
    graceful_timeout: int  # seconds; longer than the SMS failover can take (config/sms.py)
    session_max_age: int
    session_idle_timeout: int
    email_backend: EmailBackend
    email_from: str
    email_verification: EmailVerification
    smtp: SmtpSettings | None
    argon2_memory_kib: int
    argon2_time_cost: int
    argon2_parallelism: int
    hash_slots: int
    # The metrics (docs/operations.md, "Metrics"): a listener of their own (None: none), and/or
    # /metrics on the public port for this bearer token (None: a 404 there).
    metrics_host: str
    metrics_port: int | None
    metrics_token: Secret | None
    signup_open: bool
    trusted_proxy_count: int
    second_factor_failure_limit: int
    sms_code_lifetime: int
    sms_resend_cooldown: int
    sms: SmsSettings
    sso: SsoSettings
    audit_retention_days: int
    log_level: str
    log_format: LogFormat
    scheduler: bool  # the clean-ups run inside the server (docs/operations.md, "Clean-ups")

    @property
    def is_production(self) -> bool:
        return self.mode == "production"

    @property
    def uses_https(self) -> bool:
        return self.public_url.startswith("https://")

    @property
    def mail_dir(self) -> Path:
        return self.data_dir / "mail"


# Every variable Twofold reads, with a one-line description (also the README's table source).
KNOWN_VARIABLES: dict[str, str] = {
    "MODE": "`development` (default) or `production`",
    "DATA_DIR": "where state lives (SQLite database, secret key, mail); default `var/`",
    "SECRET_KEY": "required in production; otherwise generated and kept under the data dir",
    "FACTOR_KEY": "key encrypting second-factor secrets (TOTP) at rest, 32 bytes in URL-safe "
    "base64; required in production; otherwise generated and kept under the data dir",
    "OIDC_PRIVATE_KEY": "RSA private key (PEM) signing the identity provider's ID tokens; "
    "required in production (or OIDC_PRIVATE_KEY_FILE); otherwise generated under the data dir",
    "OIDC_PREVIOUS_KEYS": "RSA keys (PEM, private or public, one after another) still published "
    "in the JWKS after `twofold rotate-signing-key`, never signing; only with OIDC_PRIVATE_KEY",
    "HOST": "address to listen on; default `127.0.0.1`",
    "PORT": "port to listen on; default `8000`",
    "PUBLIC_URL": (
        "the URL people use, e.g. `https://login.example.com`; default `http://localhost:PORT` "
        "(`http://HOST:PORT` with `TWOFOLD_HOST`)"
    ),
    "ALLOWED_HOSTS": "comma-separated extra host names accepted besides the public URL's",
    "FORWARD_AUTH_HOSTS": "comma-separated hosts forward-auth's sign-in may return to "
    "(`app.example.com`, `app.example.com:8443`, `.example.com` for every subdomain); default none",
    "COOKIE_DOMAIN": "domain of the session and CSRF cookies (e.g. `example.com`), shared by the "
    "apps on its subdomains; default none (this host only)",
    "DATABASE_URL": "e.g. `postgres://user:pass@db/twofold`; default SQLite under the data dir",
    "REDIS_URL": "e.g. `redis://127.0.0.1:6379/0`: cache and sessions in Redis (many instances)",
    "WORKERS": "gunicorn worker processes; default 2 per CPU + 1",
    "SESSION_MAX_AGE": "absolute session lifetime in seconds; default 86400 (24 h)",
    "SESSION_IDLE_TIMEOUT": "idle session timeout in seconds; default 3600 (1 h)",
    "EMAIL_BACKEND": "`file` (default: files under `<data dir>/mail/`), `console` or `smtp`",
    "EMAIL_FROM": "sender of Twofold's emails; default `Twofold <no-reply@localhost>`",
    "EMAIL_VERIFICATION": "`mandatory` (default), `optional` or `none` for new sign-ups",
    "SMTP_HOST": "SMTP server (required with `EMAIL_BACKEND=smtp`)",
    "SMTP_PORT": "SMTP port; default 587",
    "SMTP_USERNAME": "SMTP user name",
    "SMTP_PASSWORD": "SMTP password",
    "SMTP_SECURITY": "`starttls` (default), `tls` or `none`",
    "ARGON2_MEMORY_KIB": "argon2id memory per hash in KiB; default 19456 (19 MiB)",
    "ARGON2_TIME_COST": "argon2id iterations; default 2",
    "ARGON2_PARALLELISM": "argon2id lanes; default 1",
    "HASH_SLOTS": "password hashes at once across all workers; default the CPUs Twofold may run on",
    "METRICS_PORT": "port of a separate listener serving Prometheus metrics at `/metrics`; "
    "default none (no listener)",
    "METRICS_HOST": "address of that listener; default `127.0.0.1`",
    "METRICS_TOKEN": "bearer token (32 characters at least) that opens `/metrics` on the public "
    "port; default none (a 404 there)",
    "TRUSTED_PROXY_COUNT": "how many reverse proxies of yours set X-Forwarded-For; default 0",
    "SECOND_FACTOR_FAILURE_LIMIT": "wrong codes in a row before 2FA sign-in locks; default 20",
    "SMS_CODE_LIFETIME": "seconds an SMS code stays valid; default 300 (5 min), at most 600",
    "SMS_RESEND_COOLDOWN": "seconds before another code can be sent; default 30",
    **sms_config.VARIABLES,
    **sso_config.VARIABLES,
    "AUDIT_RETENTION_DAYS": "days audit events are kept before `twofold purge-audit` deletes them; "
    "default 365, at least 1",
    "SIGNUP": "`open` (default): anyone may sign up a new account; `closed`: only invitations",
    "LOG_LEVEL": "`DEBUG`, `INFO` (default), `WARNING` or `ERROR`",
    "LOG_FORMAT": "`text` (default) or `json`: one JSON object per line (docs/operations.md)",
    "SCHEDULER": "`on` (default): the server runs the clean-ups and logout retries itself, one "
    "instance at a time; `off`: run the `twofold` commands from cron",
    "GRACEFUL_TIMEOUT": "seconds a stopping worker may finish its requests (gunicorn's graceful "
    "and worker timeouts); default the SMS failover's longest wait plus 10, at least 30",
}

# Settings that are secrets: each may be given instead in the file ``TWOFOLD_<NAME>_FILE`` names
# (container secrets, systemd credentials), which keeps the value out of the environment.
SECRET_VARIABLES: tuple[str, ...] = (
    "SECRET_KEY",
    "FACTOR_KEY",
    "OIDC_PRIVATE_KEY",
    "OIDC_PREVIOUS_KEYS",
    "DATABASE_URL",  # its password
    "REDIS_URL",
    "SMTP_PASSWORD",
    "METRICS_TOKEN",
    *sms_config.SECRETS,
    *sso_config.SECRETS,
)
KNOWN_VARIABLES.update(
    {f"{name}_FILE": f"a file holding {name} (container secrets)" for name in SECRET_VARIABLES}
)


# Read by the test suite only (README, "Testing"); the server accepts and ignores them.
TEST_VARIABLES: dict[str, str] = {
    "REQUIRE_SERVICES": "`1`: tests needing PostgreSQL, Redis or Chromium fail instead of skipping",
    "TEST_BACKEND": "set by `python -m tests.services`: run the suite on PostgreSQL + Redis",
    "TEST_POSTGRES_URL": "PostgreSQL server for the tests; default `postgres://postgres@127.0.0.1:5432`",
    "TEST_REDIS_URL": "Redis for the tests; default `redis://127.0.0.1:6379/0`",
}


def load(
    environ: Mapping[str, str] | None = None,
    *,
    cwd: Path | None = None,
    now: datetime | None = None,
) -> TwofoldSettings:
    """Read and validate all settings; raise :class:`ConfigurationError` listing every problem.
    ``now`` decides which retired signing keys are still published."""
    reader = _Reader(os.environ if environ is None else environ)
    # Not twofold.clock: Django's clock needs the settings being made here.
    settings = reader.build(cwd or Path.cwd(), now or datetime.now(UTC))
    if reader.problems:
        raise ConfigurationError(
            "Twofold cannot start with this configuration:\n"
            + "\n".join(f"  - {p}" for p in reader.problems)
        )
    return settings


class _Reader:
    def __init__(self, environ: Mapping[str, str]) -> None:
        self.env = {k[len(PREFIX) :]: v for k, v in environ.items() if k.startswith(PREFIX)}
        self.problems: list[str] = []
        for name in SECRET_VARIABLES:
            self._read_secret_file(name)

    def build(self, cwd: Path, now: datetime) -> TwofoldSettings:
        self._refuse_unknown()
        mode = cast(Mode, self.choice("MODE", ("development", "production"), "development"))
        data_dir = Path(self.env.get("DATA_DIR") or cwd / "var").resolve()
        host = self.env.get("HOST") or "127.0.0.1"
        port = self.integer("PORT", 8000, minimum=1, maximum=65535)
        # localhost, not 127.0.0.1, by default: browsers refuse an IP address as a passkey's
        # relying party id (WebAuthn: a domain), and localhost is a secure context over http.
        served = "localhost" if "HOST" not in self.env else host
        public_url = (self.env.get("PUBLIC_URL") or f"http://{served}:{port}").rstrip("/")
        smtp = self._smtp()
        email_backend = cast(
            EmailBackend, self.choice("EMAIL_BACKEND", ("file", "console", "smtp"), "file")
        )
        max_age = self.integer("SESSION_MAX_AGE", 86400, minimum=60)
        idle = self.integer("SESSION_IDLE_TIMEOUT", 3600, minimum=60)
        oidc_key, previous_keys, key_in_environment = self._oidc_keys(mode, data_dir, now)
        sms = sms_config.read(self, data_dir, production=mode == "production")
        settings = TwofoldSettings(
            mode=mode,
            data_dir=data_dir,
            secret_key=self._secret_key(mode, data_dir),
            factor_key=self._factor_key(mode, data_dir),
            oidc_private_key=oidc_key,
            oidc_previous_keys=previous_keys,
            oidc_key_in_environment=key_in_environment,
            host=host,
            port=port,
            public_url=public_url,
            allowed_hosts=self._allowed_hosts(public_url, host),
            forward_auth_hosts=self._forward_auth_hosts(),
            cookie_domain=self._cookie_domain(public_url),
            database_url=self.secret("DATABASE_URL"),
            redis_url=self.secret("REDIS_URL"),
            workers=self.integer("WORKERS", 2 * (os.cpu_count() or 1) + 1, minimum=1, maximum=256),
            graceful_timeout=self._graceful_timeout(sms),
            session_max_age=max_age,
            session_idle_timeout=idle,
            email_backend=email_backend,
            email_from=self.env.get("EMAIL_FROM") or "Twofold <no-reply@localhost>",
            email_verification=self.choice(
                "EMAIL_VERIFICATION", ("mandatory", "optional", "none"), "mandatory"
            ),
            smtp=smtp,
            argon2_memory_kib=self.integer("ARGON2_MEMORY_KIB", 19456, minimum=7168),
            argon2_time_cost=self.integer("ARGON2_TIME_COST", 2, minimum=1, maximum=20),
            argon2_parallelism=self.integer("ARGON2_PARALLELISM", 1, minimum=1, maximum=16),
            hash_slots=self.integer(
                "HASH_SLOTS", len(os.sched_getaffinity(0)), minimum=1, maximum=256
            ),
            metrics_host=self.env.get("METRICS_HOST") or "127.0.0.1",
            metrics_port=self._metrics_port(),
            metrics_token=self._metrics_token(),
            signup_open=self.choice("SIGNUP", ("open", "closed"), "open") == "open",
            trusted_proxy_count=self.integer("TRUSTED_PROXY_COUNT", 0, minimum=0, maximum=10),
            second_factor_failure_limit=self.integer(
                "SECOND_FACTOR_FAILURE_LIMIT", 20, minimum=1, maximum=100
            ),
            sms_code_lifetime=self.integer("SMS_CODE_LIFETIME", 300, minimum=60, maximum=600),
            sms_resend_cooldown=self.integer("SMS_RESEND_COOLDOWN", 30, minimum=10, maximum=600),
            sms=sms,
            sso=sso_config.read(self),
            audit_retention_days=self.integer(
                "AUDIT_RETENTION_DAYS", 365, minimum=1, maximum=36500
            ),
            log_level=self.choice("LOG_LEVEL", ("DEBUG", "INFO", "WARNING", "ERROR"), "INFO"),
            log_format=self.choice("LOG_FORMAT", ("text", "json"), "text"),
            scheduler=self.choice("SCHEDULER", ("on", "off"), "on") == "on",
        )
        self._check_contradictions(settings)
        return settings

    def _refuse_unknown(self) -> None:
        for name in sorted(set(self.env) - set(KNOWN_VARIABLES) - set(TEST_VARIABLES)):
            guess = difflib.get_close_matches(name, KNOWN_VARIABLES, n=1)
            hint = f" (did you mean {PREFIX}{guess[0]}?)" if guess else ""
            self.problems.append(f"{PREFIX}{name} is not a Twofold setting{hint}")

    def choice(self, name: str, options: tuple[T, ...], default: T) -> T:
        raw = self.env.get(name)
        if raw is None or raw == "":
            return default
        for option in options:
            if raw.lower() == str(option).lower():
                return option
        listed = ", ".join(str(o) for o in options)
        self.problems.append(f"{PREFIX}{name}={raw!r} is not one of: {listed}")
        return default

    def integer(
        self, name: str, default: int, *, minimum: int = 0, maximum: int | None = None
    ) -> int:
        raw = self.env.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            self.problems.append(f"{PREFIX}{name}={raw!r} must be a whole number")
            return default
        if value < minimum or (maximum is not None and value > maximum):
            upper = f" and at most {maximum}" if maximum is not None else ""
            self.problems.append(f"{PREFIX}{name}={value} must be at least {minimum}{upper}")
            return default
        return value

    def _read_secret_file(self, name: str) -> None:
        """The one rule for every secret: the file ``<name>_FILE`` names is read once, here, and
        stands for the variable, without the trailing newline editors and ``echo`` add. Both
        set is refused (which one counts would be a guess); the content is never printed."""
        path = self.env.get(f"{name}_FILE")
        if not path:
            return
        variable = f"{PREFIX}{name}_FILE={path!r}"
        if self.env.get(name):
            self.problems.append(f"set {PREFIX}{name} or {PREFIX}{name}_FILE, not both")
            return
        try:
            value = Path(path).read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as error:
            reason = error.strerror or type(error).__name__
            self.problems.append(
                f"{variable} cannot be read ({reason}): {PREFIX}{name} stays unset"
            )
            return
        except UnicodeDecodeError:
            self.problems.append(f"{variable} is not UTF-8 text: {PREFIX}{name} stays unset")
            return
        if not value:
            self.problems.append(f"{variable} is an empty file: {PREFIX}{name} stays unset")
            return
        self.env[name] = value

    def secret(self, name: str) -> Secret | None:
        raw = self.env.get(name)
        return Secret(raw) if raw else None

    def _secret_key(self, mode: str, data_dir: Path) -> Secret:
        given = self.env.get("SECRET_KEY")
        if given:
            if len(given) < 50:
                self.problems.append(f"{PREFIX}SECRET_KEY must be at least 50 characters long")
            return Secret(given)
        if mode == "production":
            self.problems.append(
                f"{PREFIX}SECRET_KEY is required in production "
                '(generate one with: python -c "import secrets; print(secrets.token_urlsafe(50))")'
            )
            return Secret("")
        return Secret(_stored_secret_key(data_dir))

    def _factor_key(self, mode: str, data_dir: Path) -> Secret:
        """Outside the database (DESIGN.md): a stolen database alone reveals no TOTP secret."""
        given = self.env.get("FACTOR_KEY")
        if given:
            if not valid_factor_key(given):
                self.problems.append(
                    f"{PREFIX}FACTOR_KEY must be 32 bytes in URL-safe base64 ({FACTOR_KEY_HINT})"
                )
            return Secret(given)
        if mode == "production":
            self.problems.append(
                f"{PREFIX}FACTOR_KEY is required in production ({FACTOR_KEY_HINT})"
            )
            return Secret("")
        return Secret(_stored_secret(data_dir / "factor_key", new_factor_key))

    def _oidc_keys(
        self, mode: str, data_dir: Path, now: datetime
    ) -> tuple[Secret, tuple[str, ...], bool]:
        """The key signing ID tokens, and the public halves of the keys published beside it.
        The same on every instance, so given in production (the variables, or files named by
        ``_FILE``, as container secrets are); else kept in the data directory, where
        ``twofold rotate-signing-key`` rotates them (config/signing_keys.py)."""
        given: str | None = self.env.get("OIDC_PRIVATE_KEY")
        if given or self.env.get("OIDC_PRIVATE_KEY_FILE"):
            if given and not valid_private_key(given):
                self.problems.append(
                    f"{PREFIX}OIDC_PRIVATE_KEY must be an RSA private key in PEM ({OIDC_KEY_HINT})"
                )
                given = None
            key = Secret((given or "").strip())
            return key, self._previous_keys(str(key)), True
        if self.env.get("OIDC_PREVIOUS_KEYS"):
            # The data directory keeps its own retired keys; these would be published unused.
            self.problems.append(
                f"{PREFIX}OIDC_PREVIOUS_KEYS needs {PREFIX}OIDC_PRIVATE_KEY (without it, the keys "
                "are kept in the data directory, and rotated there)"
            )
        if mode == "production":
            self.problems.append(
                f"{PREFIX}OIDC_PRIVATE_KEY (or OIDC_PRIVATE_KEY_FILE) is required in production "
                f"({OIDC_KEY_HINT})"
            )
            return Secret(""), (), False
        try:
            stored = signing_keys.load(data_dir, now)
        except signing_keys.KeyStoreError as error:
            self.problems.append(f"The identity provider's signing keys: {error}")
            return Secret(""), (), False
        return Secret(stored.signing), tuple(k.public_key for k in stored.retired), False

    def _previous_keys(self, signing_key: str) -> tuple[str, ...]:
        text = self.env.get("OIDC_PREVIOUS_KEYS")
        if not text:
            return ()
        try:
            published = signing_keys.public_keys(text)
        except ValueError as error:  # its message names the key by place, never by content
            self.problems.append(f"{PREFIX}OIDC_PREVIOUS_KEYS: {error}")
            return ()
        signing = signing_keys.public_key(signing_key) if signing_key else None
        return tuple(k for k in published if k != signing)  # the signing key is published anyway

    def _graceful_timeout(self, sms: SmsSettings) -> int:
        """A worker told to stop finishes its requests for this long, then is killed: shorter
        than the SMS failover, a member's code could be cut off mid-send (refused, not warned:
        the text is paid for and the sign-in fails)."""
        longest = math.ceil(sms_config.longest_failover(sms))
        default = max(MINIMUM_GRACEFUL_TIMEOUT, longest + GRACEFUL_MARGIN)
        value = self.integer("GRACEFUL_TIMEOUT", default, minimum=1, maximum=3600)
        if value < longest:
            self.problems.append(
                f"{PREFIX}GRACEFUL_TIMEOUT={value} is shorter than sending one text may take "
                f"({longest} s: the gateways {', '.join(sms.gateways)} timing out in turn at "
                f"{PREFIX}SMS_TIMEOUT={sms.timeout:g}); a stopping worker would cut it off. "
                f"Set it to at least {longest}, or lower {PREFIX}SMS_TIMEOUT"
            )
        return value

    def _allowed_hosts(self, public_url: str, host: str) -> tuple[str, ...]:
        parts = urlsplit(public_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            self.problems.append(
                f"{PREFIX}PUBLIC_URL={public_url!r} must be an http:// or https:// URL with a host"
            )
            return (host,)
        extra = [h.strip() for h in self.env.get("ALLOWED_HOSTS", "").split(",") if h.strip()]
        # On this machine only: both names of the loopback address work in the address bar.
        loopback = [*LOOPBACK_NAMES] if host in LOOPBACK_NAMES else []
        return tuple(dict.fromkeys([parts.hostname, host, *loopback, *extra]))

    def _forward_auth_hosts(self) -> tuple[str, ...]:
        hosts = [h.strip().lower() for h in self.env.get("FORWARD_AUTH_HOSTS", "").split(",")]
        for entry in hosts:
            if entry and not _FORWARD_AUTH_HOST.fullmatch(entry):
                # No wildcard: "*" would turn the sign-in's return address into an open redirect.
                self.problems.append(
                    f"{PREFIX}FORWARD_AUTH_HOSTS: {entry!r} is not a host (write app.example.com, "
                    "app.example.com:8443 for one port, or .example.com for every subdomain)"
                )
        return tuple(dict.fromkeys(h for h in hosts if h))

    def _cookie_domain(self, public_url: str) -> str | None:
        raw = self.env.get("COOKIE_DOMAIN", "").strip().lower()
        domain = raw.removeprefix(".")
        if not raw:
            return None
        # Browsers refuse a Domain that does not contain the host setting the cookie (RFC 6265
        # 5.3 step 6), and one that is a public suffix or an IP address.
        if not _DOMAIN.fullmatch(domain) or "." not in domain or _IP_ADDRESS.fullmatch(domain):
            self.problems.append(
                f"{PREFIX}COOKIE_DOMAIN={raw!r} must be a domain name such as example.com"
            )
            return None
        public_host = (urlsplit(public_url).hostname or "").lower()
        if public_host != domain and not public_host.endswith(f".{domain}"):
            self.problems.append(
                f"{PREFIX}COOKIE_DOMAIN={raw!r} must be {PREFIX}PUBLIC_URL's host "
                f"({public_host}) or a domain above it: browsers would refuse the cookie"
            )
            return None
        return domain

    def _smtp(self) -> SmtpSettings | None:
        host = self.env.get("SMTP_HOST")
        if not host:
            return None
        return SmtpSettings(
            host=host,
            port=self.integer("SMTP_PORT", 587, minimum=1, maximum=65535),
            username=self.env.get("SMTP_USERNAME", ""),
            password=Secret(self.env.get("SMTP_PASSWORD", "")),
            security=self.choice("SMTP_SECURITY", ("starttls", "tls", "none"), "starttls"),
        )

    def _metrics_port(self) -> int | None:
        if not self.env.get("METRICS_PORT"):
            if self.env.get("METRICS_HOST"):
                self.problems.append(f"{PREFIX}METRICS_HOST needs {PREFIX}METRICS_PORT")
            return None
        return self.integer("METRICS_PORT", 0, minimum=1, maximum=65535) or None

    def _metrics_token(self) -> Secret | None:
        token = (self.env.get("METRICS_TOKEN") or "").strip()
        if token and (len(token) < 32 or any(ch.isspace() for ch in token)):
            self.problems.append(
                f"{PREFIX}METRICS_TOKEN must be at least 32 characters without spaces "
                '(generate one with: python -c "import secrets; print(secrets.token_urlsafe(32))")'
            )
            return None
        return Secret(token) if token else None

    def _check_contradictions(self, s: TwofoldSettings) -> None:
        if s.session_idle_timeout > s.session_max_age:
            self.problems.append(
                f"{PREFIX}SESSION_IDLE_TIMEOUT ({s.session_idle_timeout}) cannot exceed "
                f"{PREFIX}SESSION_MAX_AGE ({s.session_max_age})"
            )
        if s.metrics_port == s.port:
            self.problems.append(
                f"{PREFIX}METRICS_PORT cannot be {PREFIX}PORT ({s.port}): the metrics listener "
                f"is not the public one (use {PREFIX}METRICS_TOKEN for /metrics there)"
            )
        if s.email_backend == "smtp" and s.smtp is None:
            self.problems.append(f"{PREFIX}EMAIL_BACKEND=smtp needs {PREFIX}SMTP_HOST")
        if s.is_production and not s.uses_https:
            self.problems.append(
                f"{PREFIX}MODE=production needs an https:// {PREFIX}PUBLIC_URL "
                "(cookies are Secure and __Host- prefixed in production)"
            )
        for name, url, schemes in (
            ("DATABASE_URL", s.database_url, ("postgres", "postgresql", "sqlite")),
            ("REDIS_URL", s.redis_url, ("redis", "rediss")),
        ):
            if url is not None and urlsplit(str(url)).scheme not in schemes:
                starts = ", ".join(f"{scheme}://" for scheme in schemes)
                self.problems.append(f"{PREFIX}{name} must start with one of: {starts}")


_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DOMAIN = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_IP_ADDRESS = re.compile(r"[0-9.]+")
_FORWARD_AUTH_HOST = re.compile(
    rf"(?:\.?{_LABEL}(?:\.{_LABEL})*|\[[0-9a-f:.]+\])"  # a name, .domain, or [IPv6]
    r"(?::[0-9]{1,5})?"  # one port only
)


# gunicorn's own default, for a configuration whose texts never wait on the network.
MINIMUM_GRACEFUL_TIMEOUT = 30
GRACEFUL_MARGIN = 10  # the rest of the request around the text: the password hash, the database


FACTOR_KEY_HINT = (
    "generate one with: python -c "
    '"import base64, secrets; print(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())"'
)


OIDC_KEY_HINT = "generate one with: openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048"


def new_factor_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def valid_factor_key(value: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(value.encode())) == 32
    except (ValueError, binascii.Error):
        return False


def _stored_secret_key(data_dir: Path) -> str:
    """Generate the development secret key once and keep it, readable by its owner only."""
    return _stored_secret(data_dir / "secret_key", lambda: secrets.token_urlsafe(50))


def _stored_secret(path: Path, generate: Callable[[], str]) -> str:
    """Generate a development secret once and keep it, readable by its owner only."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = generate()
    # O_EXCL: two workers starting at once must not write two different keys.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(key)
    return key


def describe(settings: TwofoldSettings, render: Callable[[object], str] = repr) -> str:
    """A printable summary of the settings; secrets stay hidden."""
    return "\n".join(f"{name} = {render(value)}" for name, value in vars(settings).items())
