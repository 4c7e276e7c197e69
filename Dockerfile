# syntax=docker/dockerfile:1
# rs-bridge image: one entry point, the role comes from RSB_ROLE (api | worker | all).

# --- build: dev dependencies, compile, then drop dev dependencies --------------------------------
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# --- runtime: production dependencies and compiled code only -------------------------------------
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=3000
WORKDIR /app
COPY --from=build --chown=root:root /app/package.json ./package.json
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
# The files belong to root and are read-only to the app user; numeric so runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 3000
# Exec form: node runs as PID 1 and receives SIGTERM itself (the app handles it); no shell is needed.
ENTRYPOINT ["node", "dist/main.js"]
