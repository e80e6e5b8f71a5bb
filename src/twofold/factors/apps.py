from django.apps import AppConfig


class FactorsConfig(AppConfig):
    name = "twofold.factors"
    label = "factors"
    verbose_name = "Second factors"
