from django.apps import AppConfig


class SigninConfig(AppConfig):
    name = "twofold.signin"
    label = "signin"
    verbose_name = "Sign-in"

    def ready(self) -> None:
        from twofold.signin import signals  # noqa: F401  (connects the receivers)
