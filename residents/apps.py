from django.apps import AppConfig


class ResidentsConfig(AppConfig):
    name = "residents"
