from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "twofold.users"
    label = "users"
    verbose_name = "Users"
