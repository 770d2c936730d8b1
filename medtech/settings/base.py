"""Settings every environment shares, read from the process environment (django-environ).

The modules beside this one add what differs: `local` (development, `make run`), `production`
(the hardening, and SECRET_KEY / ALLOWED_HOSTS required) and `test`. manage.py, WSGI, ASGI and
Celery default to `production`; the Makefile picks `local`, pytest picks `test`.
"""

from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

DEBUG = False
# Demo mode shows the demo logins on the login page; `local` switches it on.
DEMO_MODE = env.bool("DEMO_MODE", default=False)

SECRET_KEY = env("SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_htmx",
    "pgtrigger",
    "pghistory",
    "pghistory.admin",
    "axes",
    "core",
    "accounts",
    "residents",
    "vitals",
    "meds",
    "care",
    "inventory",
    "appointments",
    "mar",
    "clinical",
    "pharmacy",
    "incidents",
    "handoff",
    "reports",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "accounts.middleware.CurrentFacilityMiddleware",
    "pghistory.middleware.HistoryMiddleware",
    # Last, as django-axes asks.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "medtech.urls"
# Django's form renderer with its plainest widget templates written out in Python (same markup).
FORM_RENDERER = "core.renderers.FastRenderer"
WSGI_APPLICATION = "medtech.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.current_facility",
                "mar.context_processors.open_alerts",
                "meds.context_processors.orders_to_verify",
                "demo.context_processors.demo_logins",
            ],
            "builtins": ["core.templatetags.facility_time", "core.templatetags.partials"],
        },
    },
    # The cards a med pass page repeats for every dose, PRN order and care task (jinja2/): the
    # same markup read at every resident of every pass, rendered about five times faster.
    # Django pages include them with {% jinja "..." %}; htmx answers render them alone.
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {
            "environment": "core.jinja.environment",
            "context_processors": ["accounts.context_processors.current_facility"],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/medtech")
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Django's PostgreSQL backend with a health check that needs no round trip (core/database).
DATABASES["default"]["ENGINE"] = "core.database"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.StaffBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Idle logout is CurrentFacilityMiddleware's: the session keeps the time of the last real
# request (at most one write a minute; the board's poll does not count) and a request later than
# the facility's idle minutes logs out. Saving the session on every request would let a polling
# page keep a cart signed in. The stored session only has to outlive the longest idle policy
# (a facility allows at most 480 minutes); the cookie ends with the browser.
IDLE_LOGOUT_MINUTES = env.int("IDLE_LOGOUT_MINUTES", default=15)
SESSION_COOKIE_AGE = max(IDLE_LOGOUT_MINUTES, 480) * 60
SESSION_ENGINE = "accounts.sessions"
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# Lockout: 5 failures for one username from one address lock that pair for 15 minutes.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Behind a reverse proxy, tell axes how many proxies add X-Forwarded-For.
AXES_IPWARE_PROXY_COUNT = env.int("AXES_PROXY_COUNT", default=0) or None
if AXES_IPWARE_PROXY_COUNT:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(BASE_DIR / "var" / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Resident photos: the form rejects bigger files with a message beside the field.
PHOTO_MAX_BYTES = env.int("PHOTO_MAX_BYTES", default=5 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
# Shared by every web process. Nothing that records care reads or writes it (a Redis outage must
# not lose documentation): the sign-off failure counts live in PostgreSQL (SignoffFailure).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env("CACHE_URL", default=REDIS_URL),
        "KEY_PREFIX": "medtech",
    }
}
# The embedded launcher exports both: redis-py and kombu spell unix-socket URLs differently.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
# Interval schedules only: crontabs have a long record of DST bugs. Jobs decide from row state.
# Each entry is a fan-out: it sends one task per facility (or per batch of facilities, below) to
# the queue, which any number of workers on any number of machines share (mar/tasks.py).
CELERY_BEAT_SCHEDULE = {
    # `expires`: after an outage a backlog of stale runs is dropped; one fresh run catches up.
    "generate-due-doses": {
        "task": "mar.tasks.fan_out_dose_generation",
        "schedule": 15 * 60.0,
        "options": {"expires": 14 * 60},
    },
    "mark-overdue-doses": {
        "task": "mar.tasks.fan_out_overdue_sweeps",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "raise-followup-alerts": {
        "task": "mar.tasks.fan_out_followup_alerts",
        "schedule": 5 * 60.0,
        "options": {"expires": 4 * 60},
    },
    "generate-care-tasks": {
        "task": "care.tasks.fan_out_care_generation",
        "schedule": 15 * 60.0,
        "options": {"expires": 14 * 60},
    },
    "mark-care-tasks": {
        "task": "care.tasks.fan_out_care_sweeps",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "escalate-condition-reports": {
        "task": "clinical.tasks.escalate_conditions",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "raise-incident-followup-alerts": {
        "task": "incidents.tasks.raise_followup_alerts",
        "schedule": 300.0,
        "options": {"expires": 290},
    },
    # Every unit's shift report row, and the alert for one not acknowledged 30 minutes into
    # the next shift.
    "raise-handoff-alerts": {
        "task": "handoff.tasks.raise_handoff_alerts",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "raise-appointment-outcome-alerts": {
        "task": "appointments.tasks.raise_outcome_alerts",
        "schedule": 300.0,
        "options": {"expires": 290},
    },
    # Pharmacy messages acknowledged but not yet processed (the worker's task after the ACK is
    # only quicker), and refill requests still queued.
    "process-pharmacy-messages": {
        "task": "pharmacy.tasks.process_received_messages",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "send-queued-refills": {
        "task": "pharmacy.tasks.send_queued_refills",
        "schedule": 120.0,
        "options": {"expires": 110},
    },
    "clear-expired-sessions": {
        "task": "accounts.tasks.clear_expired_sessions",
        "schedule": 60 * 60.0,
        "options": {"expires": 55 * 60},
    },
}
# How many facilities one generation or sweep task takes. 1: a slow facility delays no other;
# more: fewer, larger tasks for thousands of small facilities.
DOSE_ENGINE_FACILITIES_PER_TASK = env.int("DOSE_ENGINE_FACILITIES_PER_TASK", default=1)

# Headers that cost nothing anywhere; the transport hardening (TLS, HSTS, secure cookies) is in
# `production`.
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Audit events cannot be updated or deleted once written.
PGHISTORY_APPEND_ONLY = True
# The acting person and the page are attached to the writes of the requests that write. A GET
# writes nothing audited (tests/test_url_access.py holds every page to it), so its queries go
# out as they are, without the context prepended to each.
PGHISTORY_MIDDLEWARE_METHODS = ("POST", "PUT", "PATCH", "DELETE")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        # The PDFs' layout steps and font subsetting log a dozen INFO lines per resident.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
DEMO_PASSWORD = env("DEMO_PASSWORD", default="medtech-demo") if DEMO_MODE else None

# Verifying, resuming or bringing back an order or a resident asks a worker to fill in the doses
# at once instead of at the next beat (best effort: the beat is the guarantee).
DOSE_GENERATION_QUEUE = "mar.tasks.generation_send"
CARE_GENERATION_QUEUE = "care.tasks.generation_send"

# A unit's monthly MAR PDF is built by a worker; this function sends the job (reports.tasks).
MAR_PDF_QUEUE = "reports.tasks.mar_pdf_send"

# The pharmacy interface's MLLP listener (`manage.py hl7_listen`).
HL7_HOST = env("HL7_HOST", default="127.0.0.1")
HL7_PORT = env.int("HL7_PORT", default=2575)
# What this product calls itself in the messages it sends (MSH-3 of an ACK or a refill request).
HL7_APPLICATION = env("HL7_APPLICATION", default="MEDTECH_EMAR")
# Process a received pharmacy message now, after its ACK (best effort: the beat is the guarantee).
PHARMACY_PROCESS_QUEUE = "pharmacy.tasks.process_send"
# Send a refill request just queued (best effort: the beat's sweep is the guarantee).
PHARMACY_REFILL_QUEUE = "pharmacy.tasks.refill_send"
