# The eMAR web image; the same image runs the Celery worker and beat (see docker-compose.yml).
FROM python:3.11-slim-bookworm

# PYTHONPATH: import the app from /app rather than from the copy pip puts in site-packages, so
# that BASE_DIR is /app and templates/ and static/ are found.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    MEDIA_ROOT=/app/var/media \
    WEB_CONCURRENCY=3

WORKDIR /app

# WeasyPrint (the MAR PDFs) needs Pango and fonts to embed; HarfBuzz's subsetter cuts the fonts
# to the glyphs used several times faster than WeasyPrint's fallback (fontTools).
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core fonts-liberation \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system app \
    && useradd --system --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app

COPY pyproject.toml manage.py ./
COPY medtech ./medtech
COPY accounts ./accounts
COPY residents ./residents
COPY meds ./meds
COPY inventory ./inventory
COPY mar ./mar
COPY templates ./templates
COPY static ./static

RUN pip install . \
    && rm -rf build *.egg-info

# Static files are collected at build time (whitenoise serves them); the settings need a
# SECRET_KEY and ALLOWED_HOSTS to load (production settings), so give them throwaway values here.
RUN DJANGO_SETTINGS_MODULE=medtech.settings.production SECRET_KEY=build-only-not-a-secret ALLOWED_HOSTS=build.invalid \
    python manage.py collectstatic --noinput

# The code stays root-owned and read-only for the app; only uploaded media is writable.
RUN mkdir -p /app/var/media && chown -R app:app /app/var

USER app

EXPOSE 8000

# gunicorn reads the number of workers from WEB_CONCURRENCY.
CMD ["gunicorn", "medtech.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
