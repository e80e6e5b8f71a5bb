"""Session engine: Django's cached database sessions without needless round trips (see the
package)."""

from twofold.sessions.stores import CachedDatabaseStore as SessionStore

__all__ = ["SessionStore"]
