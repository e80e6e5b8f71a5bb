from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "twofold.web"
    label = "web"
    verbose_name = "Pages"
