from django.apps import AppConfig


class ConfigConfig(AppConfig):
    name = "twofold.config"
    label = "twofold_config"
    verbose_name = "Twofold configuration"

    def ready(self) -> None:
        from twofold.config import checks  # noqa: F401  (registers the system checks)
