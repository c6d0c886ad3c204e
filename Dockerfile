# syntax=docker/dockerfile:1
# The gateway for production-like runs (docker-compose.yml). Three stages: the builder compiles
# TypeScript with every dependency; `deps` installs production dependencies only; the runtime
# image holds those and dist/, and runs as the unprivileged `node` user.
# Install scripts stay off, as on the development machines: no dependency needs one to work.

FROM node:24-bookworm-slim AS builder
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=4000
WORKDIR /app
COPY --chown=node:node package.json ./
COPY --from=deps --chown=node:node /app/node_modules ./node_modules
COPY --from=builder --chown=node:node /app/dist/src ./dist/src
USER node
EXPOSE 4000
# Readiness, not liveness: 503 while the database is down; 200 (degraded) while Redis is, since
# the in-memory tier still serves.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/health/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node as PID 1 gets SIGTERM from `docker stop`; main.ts drains requests and closes the pools.
CMD ["node", "dist/src/main.js"]
