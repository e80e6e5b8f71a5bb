from django.apps import AppConfig
from django.core.signals import request_finished


class WebConfig(AppConfig):
    name = "twofold.web"
    label = "web"
    verbose_name = "Pages"

    def ready(self) -> None:
        from twofold.web.language import forget_language  # the app registry first

        request_finished.connect(forget_language, dispatch_uid="twofold.web.forget_language")
