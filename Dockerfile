# syntax=docker/dockerfile:1
#
# One image, two entry points, and the on-call status command:
#   service     node dist/main.js              (the default command)
#   controller  node dist/controller/main.js   (k8s/base/controller sets `command`)
#   status      node dist/status/main.js       (kubectl exec into either pod; only reads Redis)
#
# Three stages so the runtime carries only the compiled JavaScript and the production
# dependencies: no TypeScript, no dev tools, no npm. The base is pinned to the same Node
# release as the `node` devDependency, so the image runs what the test suite ran.
# Build:  docker build -t ghcr.io/trayb/trayb-realtime:$(node -p "require('./package.json').version") .

# --- production dependencies only -------------------------------------------------------
FROM node:24.21.0-trixie-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# --omit=dev leaves out every devDependency, including the `node` runtime package the
# development setup pins (the base image already is that Node). No dependency in
# `dependencies` needs an install script, so none is run.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# --- compile TypeScript to dist/ --------------------------------------------------------
FROM node:24.21.0-trixie-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY service/src ./service/src
RUN npm run build

# --- runtime ----------------------------------------------------------------------------
FROM node:24.21.0-trixie-slim AS runtime
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="trayb-realtime" \
      org.opencontainers.image.description="Realtime event delivery (Redis Streams to Server-Sent Events) and its stuck-consumer remediation controller" \
      org.opencontainers.image.source="https://github.com/trayb/trayb-realtime" \
      org.opencontainers.image.licenses="UNLICENSED" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="docker.io/library/node:24.21.0-trixie-slim"

# The runtime never installs anything: drop the package managers the base image ships.
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack /opt/yarn-* \
           /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
           /usr/local/bin/yarn /usr/local/bin/yarnpkg

ENV NODE_ENV=production \
    NODE_OPTIONS=--enable-source-maps
WORKDIR /app
# Owned by root and not writable by the process: the code cannot be changed at run time,
# and nothing here needs to be written, so the root filesystem can be mounted read-only.
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# package.json carries "type": "module", which makes Node load dist/*.js as ES modules.
COPY package.json ./

# Numeric, so Kubernetes can verify runAsNonRoot without resolving a user name
# (1000 is the `node` user of the base image).
USER 1000:1000
EXPOSE 4001 9464 9465
# The flags are service/src/node-flags.ts (a smaller V8 young generation; a test keeps the two equal).
CMD ["node", "--max-semi-space-size=4", "dist/main.js"]
