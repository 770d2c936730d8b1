"""ASGI entry point (the app is served with WSGI by gunicorn; this is for ASGI servers)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "medtech.settings.production")

application = get_asgi_application()
