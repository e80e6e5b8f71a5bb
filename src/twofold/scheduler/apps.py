from django.apps import AppConfig


class SchedulerConfig(AppConfig):
    name = "twofold.scheduler"
    label = "twofold_scheduler"
    verbose_name = "Scheduled clean-ups"
    default_auto_field = "django.db.models.BigAutoField"
