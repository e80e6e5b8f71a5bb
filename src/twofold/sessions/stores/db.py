"""Session engine: Django's database sessions without needless round trips (see the package)."""

from twofold.sessions.stores import DatabaseStore as SessionStore

__all__ = ["SessionStore"]
