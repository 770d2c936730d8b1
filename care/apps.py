from django.apps import AppConfig


class CareConfig(AppConfig):
    name = "care"
    verbose_name = "Assessments, service plans and care"  # what the audit trail's kind filter reads

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects the receivers)
