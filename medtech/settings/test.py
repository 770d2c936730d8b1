"""Test settings: the real PostgreSQL (DATABASE_URL) and Redis (REDIS_URL), fast hashing."""

from .base import *  # noqa: F403
from .base import BASE_DIR, LOGGING

SECRET_KEY = "test-only-not-secret"
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = BASE_DIR / "var" / "test-media"
LOGGING["root"]["level"] = "WARNING"
# Per test process, cleared before every test (tests/conftest.py).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# The seam for "fill in this facility's doses now": tests record the request instead of sending
# it to a broker (tests/seams.py; the `queued_generations` fixture reads what was asked).
DOSE_GENERATION_QUEUE = "tests.seams.remember_generation"
CARE_GENERATION_QUEUE = "tests.seams.remember_care_generation"
# The same for a unit's MAR PDF: tests see the job ids asked for (`queued_pdf_jobs`) and run
# the job themselves.
MAR_PDF_QUEUE = "tests.seams.remember_pdf_job"
# Pharmacy messages to process: tests see the ids (`queued_pharmacy_messages`) and process them.
PHARMACY_PROCESS_QUEUE = "tests.seams.remember_pharmacy_message"
PHARMACY_REFILL_QUEUE = "tests.seams.remember_refill"
