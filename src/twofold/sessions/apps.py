from django.apps import AppConfig


class SessionsConfig(AppConfig):
    name = "twofold.sessions"
    # Not "sessions": that is django.contrib.sessions' label.
    label = "twofold_sessions"
    verbose_name = "Sessions"

    def ready(self) -> None:
        from twofold.sessions import audit_trail, ending, signals  # noqa: F401  (the receivers)

        audit_trail.connect()
        ending.connect()
