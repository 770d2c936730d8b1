from django.apps import AppConfig


class MarConfig(AppConfig):
    name = "mar"
    verbose_name = "Doses, administrations and alerts"  # what the audit trail's kind filter reads

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects the receivers)
