"""Django settings, built from the typed :mod:`twofold.config.env` object and nothing else."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dj_database_url

from twofold.config import env, logs, sqlite, sso

TWOFOLD = env.load()

BASE_DIR = Path(__file__).resolve().parent.parent
DEBUG = False
SECRET_KEY = str(TWOFOLD.secret_key)
ALLOWED_HOSTS = list(TWOFOLD.allowed_hosts)
CSRF_TRUSTED_ORIGINS = [TWOFOLD.public_url]
# JSON under /_allauth/ and /api/ (a client reads a code, not Django's HTML page); HTML elsewhere.
CSRF_FAILURE_VIEW = "twofold.config.urls.csrf_failure"

INSTALLED_APPS = [
    # First, so that its templates (layout, allauth elements) override allauth's own.
    "twofold.web",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.socialaccount.providers.saml",
    "allauth.headless",
    "allauth.mfa",
    "allauth.usersessions",
    "twofold.config",
    "twofold.users",
    "twofold.organizations",
    "twofold.sessions",
    "twofold.signin",
    "twofold.sms",
    "twofold.factors",
    "twofold.audit",
    "twofold.sso",
    "oauth2_provider",
    "twofold.idp",
    "twofold.scheduler",
    "twofold.api",
]

MIDDLEWARE = [
    # Outermost: every request, the early answers below included, gets an id and a log line.
    "twofold.web.request_log.RequestLogMiddleware",
    "twofold.web.health.HealthProbeMiddleware",
    # GET /metrics for the bearer token TWOFOLD_METRICS_TOKEN; not installed without one.
    "twofold.web.metrics.MetricsEndpointMiddleware",
    "twofold.web.headers.SecurityHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Answers GET /api/v1/me without the rest of the stack when it can check every rule itself.
    "twofold.api.session_check.SessionCheckMiddleware",
    # The same for a reverse proxy's forward-auth check (/auth/forward).
    "twofold.api.idp.forward_auth.ForwardAuthMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The browser's language (the switch's cookie, else Accept-Language); after the session, before
    # CommonMiddleware, as Django asks. The member's own choice is applied once they are known.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The member's language, else their account's default (docs/languages.md).
    "twofold.web.language.MemberLanguageMiddleware",
    "twofold.audit.context.AuditOriginMiddleware",
    "twofold.sessions.timeouts.SessionTimeoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
    # Last, so it sees the view: bounds and types the body before allauth's headless views parse it.
    "twofold.api.headless.guard.HeadlessInputMiddleware",
]

ROOT_URLCONF = "twofold.config.urls"
WSGI_APPLICATION = "twofold.config.wsgi.application"
AUTH_USER_MODEL = "users.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "twofold.web.context.navigation",
            ],
        },
    },
]


# --- Data -------------------------------------------------------------------------------------


def _database() -> dict[str, Any]:
    if TWOFOLD.database_url is not None:
        config: dict[str, Any] = dict(
            dj_database_url.parse(str(TWOFOLD.database_url), conn_max_age=600)
        )
        if config["ENGINE"].endswith("postgresql"):
            config["CONN_HEALTH_CHECKS"] = True
            return config
        return {**config, **sqlite.options()}
    TWOFOLD.data_dir.mkdir(parents=True, exist_ok=True)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": TWOFOLD.data_dir / "twofold.sqlite3",
        # Kept open across requests: reopening ran three PRAGMAs per request (issue 7).
        "CONN_MAX_AGE": 600,
        **sqlite.options(),
    }


DATABASES = {"default": _database()}

# Never a per-process cache: a TOTP code was accepted twice with LocMemCache and two workers.
# "database" holds what must survive any Redis outage (replay guards) and stands in for Redis.
_DATABASE_CACHE = {"BACKEND": "twofold.config.cache.DatabaseCache", "LOCATION": "twofold_cache"}
CACHES: dict[str, dict[str, Any]]
if TWOFOLD.redis_url is not None:
    # Shared by every instance: allauth's rate limits live in the cache. Redis only accelerates:
    # 250 ms timeouts, the database cache while it is out (config/redis_cache.py).
    CACHES = {
        "default": {
            "BACKEND": "twofold.config.redis_cache.FailoverRedisCache",
            "LOCATION": str(TWOFOLD.redis_url),
            "KEY_PREFIX": "twofold",
            "OPTIONS": {"FALLBACK": "database"},
        },
        "database": {**_DATABASE_CACHE, "KEY_PREFIX": "twofold"},
    }
    SESSION_ENGINE = "twofold.sessions.stores.cached_db"  # Django's, fewer round trips
else:
    CACHES = {"default": _DATABASE_CACHE, "database": _DATABASE_CACHE}
    SESSION_ENGINE = "twofold.sessions.stores.db"  # Django's, fewer round trips


# --- Passwords (ASVS 6.2) ---------------------------------------------------------------------

# Passwords: argon2id (the first). Client secrets of applications (256 random bits): a fast
# salted hash (idp/secret_hasher.py), named by OAUTH2_PROVIDER["CLIENT_SECRET_HASHER"].
PASSWORD_HASHERS = [
    "twofold.users.hashers.TwofoldArgon2Hasher",
    "twofold.idp.secret_hasher.ClientSecretHasher",
]
TWOFOLD_ARGON2 = {
    "memory_cost": TWOFOLD.argon2_memory_kib,
    "time_cost": TWOFOLD.argon2_time_cost,
    "parallelism": TWOFOLD.argon2_parallelism,
}
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "twofold.users.passwords.MaximumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "twofold.users.passwords.ContextWordsValidator"},
]


# --- Sessions and cookies (ASVS 7) ------------------------------------------------------------

SESSION_COOKIE_AGE = TWOFOLD.session_max_age
TWOFOLD_SESSION_IDLE_TIMEOUT = TWOFOLD.session_idle_timeout
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = TWOFOLD.uses_https
CSRF_COOKIE_SECURE = TWOFOLD.uses_https
# TWOFOLD_COOKIE_DOMAIN: apps on sibling subdomains see the session (forward-auth).
SESSION_COOKIE_DOMAIN = CSRF_COOKIE_DOMAIN = TWOFOLD.cookie_domain
if TWOFOLD.uses_https:
    # __Host- binds the cookie to this exact origin, path / and Secure (RFC 6265bis 4.1.3.2); it
    # forbids a Domain attribute, so a shared cookie is __Secure- (Secure only, 4.1.3.1).
    _COOKIE_PREFIX = "__Secure-" if TWOFOLD.cookie_domain else "__Host-"
    SESSION_COOKIE_NAME = f"{_COOKIE_PREFIX}twofold-session"
    CSRF_COOKIE_NAME = f"{_COOKIE_PREFIX}twofold-csrf"
    SECURE_HSTS_SECONDS = 63072000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
else:
    SESSION_COOKIE_NAME = "twofold-session"
    CSRF_COOKIE_NAME = "twofold-csrf"
# HSTS preloading commits the whole domain for months: the operator's call, not a default.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Flash messages live in the server-side session: no extra cookie to protect.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"


# --- The identity provider (docs/identity-provider.md) ----------------------------------------
# django-oauth-toolkit with its models swapped for Twofold's and its defaults made RFC 9700's.
OAUTH2_PROVIDER_APPLICATION_MODEL = "twofold_idp.Application"
OAUTH2_PROVIDER_GRANT_MODEL = "twofold_idp.Grant"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth2_provider.AccessToken"
OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL = "oauth2_provider.RefreshToken"
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "oauth2_provider.IDToken"
OAUTH2_PROVIDER: dict[str, Any] = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": str(TWOFOLD.oidc_private_key),
    # Published in the JWKS beside it, never signing: the retired keys whose tokens may still be
    # valid (`twofold rotate-signing-key`, docs/operations.md). Read at start-up: restart after.
    "OIDC_RSA_PRIVATE_KEYS_INACTIVE": list(TWOFOLD.oidc_previous_keys),
    "OIDC_ISS_ENDPOINT": TWOFOLD.public_url.rstrip("/") + "/oauth",
    "OAUTH2_VALIDATOR_CLASS": "twofold.idp.validator.TwofoldValidator",
    # The code flow and refresh tokens only: no implicit, hybrid, password, client or device grant.
    "OAUTH2_SERVER_CLASS": "twofold.idp.server.CodeFlowServer",
    "CLIENT_SECRET_HASHER": "twofold_secret_sha256",
    "SCOPES": {
        "openid": "Sign you in",
        "profile": "Your name",
        "email": "Your email address",
    },
    "DEFAULT_SCOPES": ["openid"],
    "OIDC_RESPONSE_TYPES_SUPPORTED": ["code"],
    # Short-lived codes and tokens; refresh tokens rotate, and a reused one revokes its family.
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "ACCESS_TOKEN_EXPIRE_SECONDS": 600,
    "ID_TOKEN_EXPIRE_SECONDS": 600,
    "REFRESH_TOKEN_EXPIRE_SECONDS": 30 * 86400,
    "ROTATE_REFRESH_TOKEN": True,
    # Access tokens are JWTs carrying the sign-in's assurance (RFC 9068); refresh tokens random.
    "ACCESS_TOKEN_GENERATOR": "twofold.idp.access_tokens.signed",
    "REFRESH_TOKEN_GENERATOR": "twofold.idp.access_tokens.opaque",
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "PKCE_REQUIRED": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"] if TWOFOLD.is_production else ["http", "https"],
    "ALLOW_LOCALHOST_LOOPBACK": True,
    "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
    "OIDC_RP_INITIATED_LOGOUT_STRICT_REDIRECT_URIS": True,
    # An expired ID token still names who asks to be signed out (RP-Initiated Logout 1.0 §2:
    # SHOULD accept); the member confirms either way.
    "OIDC_RP_INITIATED_LOGOUT_ACCEPT_EXPIRED_TOKENS": True,
    # The member confirms (a link from elsewhere alone signs nobody out); the sign-out then ends
    # the tokens of that session's applications only (idp/session_end.py), not the member's
    # tokens everywhere, as the toolkit would.
    "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": True,
    "OIDC_RP_INITIATED_LOGOUT_DELETE_TOKENS": False,
    # Every RFC 9700 gate enforced now (they default to the legacy behaviour until 4.0).
    **{
        f"COMPLIANT_BCP_RFC9700_{gate}": True
        for gate in (
            "IMPLICIT_GRANT",
            "PASSWORD_GRANT",
            "PKCE_METHOD",
            "ACCESS_TOKEN_TRANSPORT",
            "AUTHZ_RESPONSE_ISS",
            "TOKEN_STORAGE",
            "REFRESH_TOKEN",
            "REDIRECT_URI_SCHEME",
            "REDIRECT_URI_MATCHING",
            "PKCE_REQUIRED",
        )
    },
}

# --- allauth ----------------------------------------------------------------------------------

ACCOUNT_ADAPTER = "twofold.signin.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_SIGNUP_FORM_CLASS = "twofold.organizations.forms.AccountSignupForm"
ACCOUNT_FORMS = {"login": "twofold.signin.login_form.LoginForm"}
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = TWOFOLD.email_verification
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Twofold] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if TWOFOLD.uses_https else "http"
ACCOUNT_CHANGE_EMAIL = False
ACCOUNT_EMAIL_NOTIFICATIONS = True
LOGIN_REDIRECT_URL = "/"
ACCOUNT_LOGOUT_REDIRECT_URL = "/accounts/login/"
LOGIN_URL = "/accounts/login/"

# Sign in with Google / Microsoft (twofold.sso): members are keyed by (provider, subject), never
# by email; a subject not linked to a member is refused, never signed up (DESIGN.md "SSO").
SOCIALACCOUNT_PROVIDERS: dict[str, Any] = sso.allauth_providers(TWOFOLD.sso)
SOCIALACCOUNT_ADAPTER = "twofold.sso.adapter.SocialAccountAdapter"
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = False
SOCIALACCOUNT_AUTO_SIGNUP = False
SOCIALACCOUNT_LOGIN_ON_GET = False
SOCIALACCOUNT_STORE_TOKENS = False
# Linking and unlinking an identity provider need a password entered in the last 5 minutes.
SOCIALACCOUNT_REAUTHENTICATION_REQUIRED = True
USERSESSIONS_TRACK_ACTIVITY = False
# Ending a session through allauth's endpoint is audited as through Twofold's
# (sessions/member_sessions.py).
USERSESSIONS_ADAPTER = "twofold.sessions.member_sessions.UserSessionsAdapter"

# allauth.mfa holds the authenticator apps (TOTP) under Twofold's own flows and login stage
# (factors/totp/): its own login stage is not in LOGIN_STAGES, its recovery codes are not used
# (Twofold's backup codes are hashed), and its own pages and endpoints are not mounted
# (config/urls.py). Secrets are encrypted with TWOFOLD_FACTOR_KEY (DESIGN.md).
MFA_ADAPTER = "twofold.factors.totp.adapter.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp"]
MFA_TOTP_ISSUER = "Twofold"
# One 30-second step either side for clock drift (RFC 6238 section 6); a used code stays refused
# for the whole window (factors/totp/codes.py).
MFA_TOTP_TOLERANCE = 1
# allauth's own "use your authenticator app" re-authentication is not mounted: Twofold's is
# (signin/second_factor.py, with the lockout); so allauth offers password (and email code) only.
ACCOUNT_REAUTHENTICATION_METHODS = ("password", "code")

HEADLESS_ONLY = False
HEADLESS_SERVE_SPECIFICATION = True
HEADLESS_SPECIFICATION_TEMPLATE_NAME = None
HEADLESS_CLIENTS = ("browser", "app")
HEADLESS_FRONTEND_URLS = {
    "account_confirm_email": "/accounts/confirm-email/{key}/",
    "account_reset_password_from_key": "/accounts/password/reset/key/{key}/",
    "account_signup": "/accounts/signup/",
}

# Client addresses (rate limits, session list, audit) come from X-Forwarded-For only behind
# this many trusted proxies; otherwise the header is ignored, as anyone can send it.
ALLAUTH_TRUSTED_PROXY_COUNT = TWOFOLD.trusted_proxy_count

AUTHENTICATION_BACKENDS = ["allauth.account.auth_backends.AuthenticationBackend"]


# --- Email ------------------------------------------------------------------------------------

DEFAULT_FROM_EMAIL = TWOFOLD.email_from
SERVER_EMAIL = TWOFOLD.email_from
if TWOFOLD.email_backend == "file":
    # One readable .eml per message (config/mail.py), not Django's .log per connection.
    EMAIL_BACKEND = "twofold.config.mail.EmailBackend"
    EMAIL_FILE_PATH = TWOFOLD.mail_dir
elif TWOFOLD.email_backend == "console":
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
elif TWOFOLD.smtp is not None:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = TWOFOLD.smtp.host
    EMAIL_PORT = TWOFOLD.smtp.port
    EMAIL_HOST_USER = TWOFOLD.smtp.username
    EMAIL_HOST_PASSWORD = str(TWOFOLD.smtp.password)
    EMAIL_USE_TLS = TWOFOLD.smtp.security == "starttls"
    EMAIL_USE_SSL = TWOFOLD.smtp.security == "tls"
    EMAIL_TIMEOUT = 10


# --- Static files, i18n, logging --------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = None  # served from the package by WhiteNoise through the finders
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

LANGUAGE_CODE = "en"
# Twofold's languages (docs/languages.md); allauth's own catalogues serve its strings.
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

LOGGING = logs.config(TWOFOLD.log_level, TWOFOLD.log_format)
