from django.apps import AppConfig


class SmsConfig(AppConfig):
    name = "twofold.sms"
    label = "sms"
    verbose_name = "Text messages"

    def ready(self) -> None:
        from twofold.sms import delivery  # noqa: F401  (connects its setting_changed receiver)
