from django.apps import AppConfig


class SsoConfig(AppConfig):
    name = "twofold.sso"
    label = "sso"
    verbose_name = "Single sign-on"

    def ready(self) -> None:
        from twofold.sso import receivers

        receivers.connect()
