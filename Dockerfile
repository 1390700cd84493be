# Rundbrief production image: one image for web (gunicorn), worker and scheduler.
# trixie: its postgresql-client (17) can dump and restore the compose file's PostgreSQL 16
# (`manage.py backup`); bookworm's (15) refuses a newer server.
FROM python:3.11-slim-trixie

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    RUNDBRIEF_VAR_DIR=/data \
    STATIC_ROOT=/app/staticfiles

WORKDIR /app
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*
# The named volumes mounted on /data/media and /data/backups take these owners.
RUN useradd --create-home --uid 1000 rundbrief \
    && mkdir -p /data/media /data/backups && chown -R rundbrief /data

COPY requirements.lock ./
RUN pip install --no-cache-dir -r requirements.lock

COPY . .
# collectstatic needs settings but no secrets: throw-away keys only for this step.
# (The German catalogue's .mo file is committed, so no gettext is needed in the image.)
RUN SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
    SUPPRESSION_HASH_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
    python manage.py collectstatic --no-input -v 0

USER rundbrief
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "5", "--access-logfile", "-"]
