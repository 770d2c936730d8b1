from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    name = "core"

    def ready(self):
        from .audit_functions import install_on_migrate

        # Connected without a sender: it runs after every app's migrations, pghistory's too.
        post_migrate.connect(install_on_migrate, dispatch_uid="core.audit_functions")
