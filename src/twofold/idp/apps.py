from django.apps import AppConfig


class IdpConfig(AppConfig):
    name = "twofold.idp"
    label = "twofold_idp"
    verbose_name = "Identity provider"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from twofold.idp import session_end

        session_end.connect()  # tokens end with the session (idp/session_end.py)
