# syntax=docker/dockerfile:1
#
# One image, two processes (both TypeScript run by tsx, a runtime dependency; no build step):
#   API:    node --import tsx api/main.ts       (the default command)
#   worker: node --import tsx workers/main.ts
# The Helm chart (charts/sentinel) and docker-compose.yml run exactly these two commands.
#
#   docker build -t sentinel:dev .
ARG NODE_IMAGE=node:20-bookworm-slim

# --- dependencies: production packages only, resolved exactly from package-lock.json -----
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --no-audit --no-fund

# --- runtime: sources + node_modules, run as an unprivileged user ----------------------------
FROM ${NODE_IMAGE} AS runtime
ARG SENTINEL_UID=10001
RUN groupadd --system --gid "${SENTINEL_UID}" sentinel \
 && useradd --system --uid "${SENTINEL_UID}" --gid sentinel --no-create-home \
      --home-dir /var/lib/sentinel --shell /usr/sbin/nologin sentinel \
 && mkdir -p /var/lib/sentinel \
 && chown sentinel:sentinel /var/lib/sentinel
WORKDIR /app
# Sources and node_modules are owned by root and read-only for the process.
COPY --from=deps /app/node_modules ./node_modules
COPY . .
# NODE_ENV is Node's convention; the rest are Sentinel settings (config/index.ts):
# listen on every interface in a container, keep local state (PGlite when DATABASE_URL is
# unset) in a folder the sentinel user owns.
ENV NODE_ENV=production \
    SENTINEL_API_HOST=0.0.0.0 \
    SENTINEL_DATA_DIR=/var/lib/sentinel
USER ${SENTINEL_UID}:${SENTINEL_UID}
# 8080: API (SENTINEL_API_PORT); 9464: worker /metrics (SENTINEL_WORKER_METRICS_PORT, set by the chart and compose).
EXPOSE 8080 9464
STOPSIGNAL SIGTERM
CMD ["node", "--import", "tsx", "api/main.ts"]
