"""Twofold: sign-in and account security for multi-tenant web applications."""

__version__ = "0.1.0"
