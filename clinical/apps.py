from django.apps import AppConfig


class ClinicalConfig(AppConfig):
    name = "clinical"
    verbose_name = "Changes of condition"  # what the audit trail's kind filter reads
