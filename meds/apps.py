from django.apps import AppConfig


class MedsConfig(AppConfig):
    name = "meds"
    verbose_name = "Orders and medications"  # what the audit trail's kind filter reads
