"""Authenticator apps (TOTP, RFC 6238) as a second factor, on top of ``allauth.mfa``."""
