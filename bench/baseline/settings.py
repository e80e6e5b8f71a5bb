"""Settings of the baseline projects (``bench/baseline``): Django's and allauth's defaults, with
what must match Twofold's benchmark to compare: SQLite in WAL mode with connections kept, the
database cache (the rate limits must be shared by every worker, as in Twofold), the same argon2id
parameters, the client address from ``X-Forwarded-For``. ``BASELINE_FLAVOUR`` is ``allauth``
(stock django-allauth, email login) or ``django`` (``django.contrib.auth``'s ``LoginView``)."""

from __future__ import annotations

import os
from pathlib import Path

from twofold.config import sqlite

FLAVOUR = os.environ.get("BASELINE_FLAVOUR", "allauth")
DATA_DIR = Path(os.environ.get("BASELINE_DATA_DIR", "var/baseline"))

SECRET_KEY = "bench-baseline-only-never-served-beyond-loopback"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "bench.baseline.urls"
USE_TZ = True

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "bench.baseline",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
if FLAVOUR == "allauth":
    INSTALLED_APPS += ["allauth", "allauth.account"]
    MIDDLEWARE += ["allauth.account.middleware.AccountMiddleware"]
    AUTHENTICATION_BACKENDS = [
        "django.contrib.auth.backends.ModelBackend",
        "allauth.account.auth_backends.AuthenticationBackend",
    ]
    ACCOUNT_LOGIN_METHODS = {"email"}
    ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
    ALLAUTH_TRUSTED_PROXY_COUNT = 1

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": DATA_DIR / "baseline.sqlite3",
        "CONN_MAX_AGE": 600,
        **sqlite.options(),  # Twofold's own: WAL, IMMEDIATE transactions
    }
}
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "cache"}
}
PASSWORD_HASHERS = ["bench.baseline.hashers.Argon2idHasher"]
BASELINE_ARGON2 = {
    "memory_cost": int(os.environ.get("TWOFOLD_ARGON2_MEMORY_KIB", "19456")),
    "time_cost": int(os.environ.get("TWOFOLD_ARGON2_TIME_COST", "2")),
    "parallelism": int(os.environ.get("TWOFOLD_ARGON2_PARALLELISM", "1")),
}
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
