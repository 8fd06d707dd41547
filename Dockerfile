# The Talia API and its job worker in one image: `talia serve` by default, `talia worker`
# or `talia migrate` as the command. Dependencies are installed at the versions pinned in
# requirements.lock, as the quick start installs them.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --home-dir /home/talia --uid 10001 talia
WORKDIR /app

COPY requirements.lock pyproject.toml README.md alembic.ini ./
COPY alembic ./alembic
COPY src ./src
# Editable, as in the quick start: `talia migrate` reads alembic/ beside src/.
RUN python -m pip install --constraint requirements.lock --editable . \
    && mkdir -p /app/data /app/media /app/mail \
    && chown talia:talia /app/data /app/media /app/mail

USER talia
ENV TALIA_DATABASE__URL=sqlite+aiosqlite:////app/data/talia.db \
    TALIA_LOG__FORMAT=json
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('TALIA_HTTP__PORT', '8000') + '/health', timeout=4)"]
ENTRYPOINT ["talia"]
CMD ["serve", "--host", "0.0.0.0"]
