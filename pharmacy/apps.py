from django.apps import AppConfig


class PharmacyConfig(AppConfig):
    name = "pharmacy"
    verbose_name = "Pharmacy interface"  # what the audit trail's kind filter reads

    def ready(self) -> None:
        from . import receivers  # noqa: F401 - connects the receivers
