from django.apps import AppConfig


class MarConfig(AppConfig):
    name = "mar"

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects the receivers)
