from django.apps import AppConfig


class MedsConfig(AppConfig):
    name = "meds"
