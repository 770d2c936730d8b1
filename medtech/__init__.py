"""Configuration only: settings (base, local, production, test), the URL map, the Celery app,
WSGI and ASGI. No app imports this package; Django and Celery load it by name."""

from .celery import app as celery_app

__all__ = ("celery_app",)
