"""How applications' client secrets are stored: salted HMAC-SHA256 (PBKDF2 with one iteration).

A password is hashed slowly (argon2id, one hash per core at a time) because people choose
guessable ones. A client secret is 256 random bits from ``secrets.token_urlsafe(32)``: no guess
of it is cheaper than 2**255 tries, so a slow hash protects nothing and made every token
request wait for a password-hash slot (23 code flows/s on the benchmark machine). The
toolkit's ``CLIENT_SECRET_HASHER`` names this one; passwords keep argon2id (the first of
``PASSWORD_HASHERS``), and secrets stored earlier with it still verify.
"""

from __future__ import annotations

from django.contrib.auth.hashers import PBKDF2PasswordHasher

ALGORITHM = "twofold_secret_sha256"


class ClientSecretHasher(PBKDF2PasswordHasher):
    algorithm = ALGORITHM
    iterations = 1
