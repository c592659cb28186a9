FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    SENDETHIC_VAR_DIR=/var/lib/sendethic

WORKDIR /app
RUN useradd --system --create-home --home-dir /var/lib/sendethic sendethic
COPY . .
# collectstatic runs with production storage (hashed, compressed files and their manifest);
# the key below exists only during this build step.
RUN pip install -e . && \
    SENDETHIC_ENV=production ALLOWED_HOSTS=build \
    SECRET_KEY=build-only-key-not-used-at-run-time-0123456789abcdefghij \
    python manage.py collectstatic --noinput && \
    mkdir -p /var/lib/sendethic/media && chown -R sendethic /var/lib/sendethic

USER sendethic
EXPOSE 8000
CMD ["gunicorn", "sendethic.wsgi", "--bind", "0.0.0.0:8000", "--workers", "4", "--access-logfile", "-"]
