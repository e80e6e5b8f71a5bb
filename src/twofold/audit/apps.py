from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "twofold.audit"
    label = "audit"
    verbose_name = "Audit log"

    def ready(self) -> None:
        from twofold.audit import receivers

        receivers.connect()
