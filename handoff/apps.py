from django.apps import AppConfig


class HandoffConfig(AppConfig):
    name = "handoff"
    verbose_name = "Shift reports"  # what the audit trail's kind filter reads
