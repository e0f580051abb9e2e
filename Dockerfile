# syntax=docker/dockerfile:1
# Three images from one build: operator, webhook and worker share the `base` stage (the compiled
# CLI with the queue adapter and production dependencies only) and differ only in their command.
#
#   docker build --target operator -t ghcr.io/queueshift/queueshift-operator:0.1.0 .
#   docker build --target webhook  -t ghcr.io/queueshift/queueshift-webhook:0.1.0 .
#   docker build --target worker   -t ghcr.io/queueshift/queueshift-worker:0.1.0 .
#
# The build step is scripts/image/build.sh, which CI also runs through scripts/image/check.sh
# (production install, build, each entry point started as a non-root user and probed), since the
# project's machines have no Docker engine. check.sh reads NODE_VERSION, USER, ENTRYPOINT and each
# target's CMD from this file, so CI runs what the images run, on the Node release they ship.

# Node LTS, pinned by tag; bump here and CI's check follows.
ARG NODE_VERSION=24.21.0

FROM node:${NODE_VERSION}-trixie-slim AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.json ./
COPY scripts/image/ scripts/image/
COPY src/ src/
RUN bash scripts/image/build.sh /src /app

FROM node:${NODE_VERSION}-trixie-slim AS base
ENV NODE_ENV=production
WORKDIR /app
# Owned by root and read-only to the process: the running service cannot alter its own code.
COPY --from=build /app/ /app/
# A numeric user, so the kubelet can verify runAsNonRoot without a passwd entry.
USER 65532:65532
ENTRYPOINT ["node", "dist/cli/main.js"]

FROM base AS operator
EXPOSE 8081
CMD ["operator"]

FROM base AS webhook
EXPOSE 8080
CMD ["webhook"]

FROM base AS worker
EXPOSE 8080
CMD ["worker"]
