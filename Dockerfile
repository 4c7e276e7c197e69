# syntax=docker/dockerfile:1
# rs-bridge image: one entry point, the role comes from RSB_ROLE (api | worker | all).

# --- build: dev dependencies, compile, then drop dev dependencies --------------------------------
# Node 22: the active LTS line (Node 20 reached end of life on 2026-04-30).
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# --- runtime: production dependencies and compiled code only -------------------------------------
FROM node:22-bookworm-slim AS runtime
# Set by the build (docker build --build-arg VERSION=... --build-arg REVISION=$(git rev-parse HEAD) ...).
ARG VERSION=0.0.0-dev
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="rs-bridge" \
      org.opencontainers.image.description="Integration middleware between help desks (Zendesk, ServiceNow, generic JSON) and BeyondTrust Remote Support / Upscope" \
      org.opencontainers.image.source="https://github.com/rs-bridge/rs-bridge" \
      org.opencontainers.image.url="https://github.com/rs-bridge/rs-bridge" \
      org.opencontainers.image.documentation="https://github.com/rs-bridge/rs-bridge/blob/main/README.md" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}"
ENV NODE_ENV=production \
    PORT=3000
WORKDIR /app
COPY --from=build --chown=root:root /app/package.json ./package.json
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
# The files belong to root and are read-only to the app user; numeric so runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 3000
# Liveness for docker and compose (Kubernetes uses the chart's probes): /healthz over loopback with the
# fetch built into Node, so the slim image needs no curl.
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Exec form: node runs as PID 1 and receives SIGTERM itself (the app handles it); no shell is needed.
ENTRYPOINT ["node", "dist/main.js"]
