from django.apps import AppConfig


class VitalsConfig(AppConfig):
    name = "vitals"
    verbose_name = "Vital signs"  # what the audit trail's kind filter reads

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects the receivers)
