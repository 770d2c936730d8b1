from django.apps import AppConfig


class MarConfig(AppConfig):
    name = "mar"
