"""Test settings: the real PostgreSQL (DATABASE_URL) and Redis (REDIS_URL), fast hashing."""

from .base import *  # noqa: F403
from .base import BASE_DIR, LOGGING, env

SECRET_KEY = "test-only-not-secret"
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = BASE_DIR / "var" / "test-media"
LOGGING["root"]["level"] = "WARNING"
# Per test process, cleared before every test (tests/conftest.py).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Tests ask for the "generate this facility's doses now" task explicitly (tests/conftest.py:
# `queued_generations`); otherwise the beat's run in each test is the one that counts.
DOSE_GENERATION_ON_CHANGE = env.bool("DOSE_GENERATION_ON_CHANGE", default=False)
