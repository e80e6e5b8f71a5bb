from django.apps import AppConfig


class OrganizationsConfig(AppConfig):
    name = "twofold.organizations"
    label = "organizations"
    verbose_name = "Accounts"
