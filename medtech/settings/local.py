"""Development (`make run`): debug pages, demo logins, runserver serving static files."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
DEMO_MODE = env.bool("DEMO_MODE", default=True)
SECRET_KEY = env("SECRET_KEY", default="dev-only-insecure-key-do-not-use-in-production")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
SECURE_HSTS_SECONDS = 0
DEMO_PASSWORD = env("DEMO_PASSWORD", default="medtech-demo") if DEMO_MODE else None
