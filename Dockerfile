# Beholder as a container: `beholder serve` (Socket Mode) with the inventory on a volume.
# README "Running it for real" shows `docker run` with the volume and an env file
# (deploy/env.example). Linted by hadolint in .ci/run; no ignores.

# The Python the test suite runs on (3.11), a pinned patch release on Debian bookworm.
# Both stages start from it: the virtualenv's interpreter path must exist in the second.
FROM python:3.11.11-slim-bookworm AS base

# --- build: the project and its dependencies into a virtualenv --------------------------
FROM base AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /src
RUN python -m venv /opt/beholder
# Only what the package needs: .dockerignore keeps tests, .git, .env and databases out.
COPY pyproject.toml README.md ./
COPY bot ./bot
# The project without its test extras; dependency versions are bounded in pyproject.toml.
RUN /opt/beholder/bin/pip install --no-cache-dir .

# --- run: the virtualenv, a user with no login, nothing else ----------------------------
FROM base

# A fixed uid/gid, so that a bind-mounted inventory directory can be chowned to it
# on the host (`chown 10001:10001 DIR`); a named volume takes it from the image.
RUN groupadd --system --gid 10001 beholder \
    && useradd --system --uid 10001 --gid beholder --no-create-home \
       --home-dir /var/lib/beholder --shell /usr/sbin/nologin beholder \
    && install -d -o beholder -g beholder -m 0700 /var/lib/beholder

COPY --from=build /opt/beholder /opt/beholder

# BEHOLDER_HTTP_PORT starts the HTTP listener in Socket Mode (/healthz, /metrics and
# the /live API). Inside the container it listens on every interface of the
# container's own network namespace: nothing outside reaches it until a port is
# published (`-p 127.0.0.1:8080:8080`), which is how the scraper gets /metrics.
ENV PATH=/opt/beholder/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    BEHOLDER_DB=/var/lib/beholder/beholder.db \
    BEHOLDER_HTTP_HOST=0.0.0.0 \
    BEHOLDER_HTTP_PORT=8080

# The inventory (SQLite, its -wal and -shm) lives here: keep it across upgrades.
VOLUME ["/var/lib/beholder"]
WORKDIR /var/lib/beholder
# Numeric, so that the runtime (and Kubernetes' runAsNonRoot) can tell it is not root.
USER 10001:10001
EXPOSE 8080

# /healthz answers 503 naming what is wrong (event loop, inventory, Slack connection);
# urlopen raises on it, and on a refused connection, so python exits 1. No curl in
# slim images: the standard library asks.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ['BEHOLDER_HTTP_PORT'] + '/healthz', timeout=4)"]

# Python as PID 1 ignores SIGTERM (no handler, and the kernel drops default-action
# signals to PID 1): `docker stop` would wait 10 s and kill. SIGINT is handled:
# the event loop unwinds, connections close, and beholder exits 130.
STOPSIGNAL SIGINT

CMD ["beholder", "serve"]
