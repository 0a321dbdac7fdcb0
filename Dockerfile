# One image for every Shu-Kang process: gunicorn (pages), daphne (websockets)
# and the one-shot `manage.py migrate`; docker-compose.yml picks the command.
FROM python:3.13-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

# Every pinned requirement ships a manylinux wheel for CPython 3.13 on amd64
# and arm64, so no compiler or libpq is installed. Tesseract with Simplified
# Chinese reads patients' report photos for personal data in the worker
# (attachments/imaging.py); without it every image waits for a moderator.
RUN apt-get update \
    && apt-get install -y --no-install-recommends tesseract-ocr tesseract-ocr-chi-sim \
    && rm -rf /var/lib/apt/lists/* \
    && python -m venv /opt/venv \
    && useradd --system --uid 10001 --user-group --no-create-home --home-dir /app shukang

WORKDIR /app

# Requirements first: the dependency layer stays cached while only code changes.
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .

# Translations and static files are built into the image, owned by root and
# read-only to the service user. Settings refuse to load without a secret key
# when DEBUG is off, so these steps get a throwaway one that lives only in
# this RUN; DEBUG must be off here so collectstatic writes the manifest that
# the production storage reads at run time.
RUN DJANGO_SECRET_KEY=build-only-not-a-secret DJANGO_DEBUG=false \
        python manage.py compiletranslations \
    && DJANGO_SECRET_KEY=build-only-not-a-secret DJANGO_DEBUG=false \
        python manage.py collectstatic --noinput \
    && python -m compileall -q /app /opt/venv

# Patients' reports: a private folder, a volume shared by web and worker.
RUN mkdir -p /srv/private && chown shukang:shukang /srv/private
ENV SHUKANG_PRIVATE_ROOT=/srv/private

USER shukang

# 8000: gunicorn (pages); 8001: daphne (websockets). Only the proxy publishes.
EXPOSE 8000 8001

# Runs as `web` in docker-compose.yml. WEB_CONCURRENCY sets the sync workers
# (gunicorn reads it); bench/http_servers.py and docs/BENCHMARKS.md explain
# why pages go through WSGI. The heartbeat files go to /dev/shm because a
# worker that blocks on a slow overlay filesystem is killed as if it hung.
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--worker-tmp-dir", "/dev/shm", "--no-control-socket", "--access-logfile", "-"]
