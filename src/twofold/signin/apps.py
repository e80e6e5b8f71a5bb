from django.apps import AppConfig


class SigninConfig(AppConfig):
    name = "twofold.signin"
    label = "signin"
    verbose_name = "Sign-in"
