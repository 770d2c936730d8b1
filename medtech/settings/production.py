"""Production: SECRET_KEY and ALLOWED_HOSTS required, TLS, HSTS, secure cookies, static files
served by the app server (WhiteNoise). `python manage.py check --deploy` reports no issue."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import MIDDLEWARE, STORAGES, env

DEBUG = False
# Demo logins (and their password on the login page) never exist in production.
DEMO_MODE = False
DEMO_PASSWORD = None

try:
    SECRET_KEY = env("SECRET_KEY")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
except ImproperlyConfigured as exc:
    raise ImproperlyConfigured(
        "With DEBUG=False, SECRET_KEY and ALLOWED_HOSTS must be set in the environment."
    ) from exc
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("With DEBUG=False, ALLOWED_HOSTS must not be empty.")

# Static files from the app server; runserver serves them in development.
MIDDLEWARE = [MIDDLEWARE[0], "whitenoise.middleware.WhiteNoiseMiddleware", *MIDDLEWARE[1:]]
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# SECURE_SSL_REDIRECT can be switched off when a proxy terminates TLS and already redirects.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
if not SECURE_SSL_REDIRECT:
    # The operator said a TLS proxy in front redirects http to https (see README).
    SILENCED_SYSTEM_CHECKS = ["security.W008"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
