# Medic's production images: one build, two targets, `worker` and `api` (same files, different command
# and health check). Build from the repository root:
#   docker build -f docker/medic.Dockerfile --target worker -t medic-worker .
#   docker build -f docker/medic.Dockerfile --target api -t medic-api .
# NODE_IMAGE is the official image by default; `npm run build:image` passes a local stand-in built from this
# machine's node binary, for machines that cannot reach a registry.
# Run with an init (`init: true` in compose, `docker run --init`): it reaps zombies and forwards signals.
# Both entry points handle SIGTERM themselves (the worker drains its tasks, the API its held alerts).
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /build
# Dependencies first: this layer is reused until the lock file changes. No install scripts run (none
# is needed: the Temporal core bridge and esbuild ship prebuilt binaries as packages).
COPY package.json package-lock.json ./
COPY demo-app/package.json demo-app/
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json runbook.json ./
COPY scripts/build.ts scripts/paths.ts scripts/
COPY src src
# dist/ (compiled JavaScript, the console's files, the pre-built workflow bundle), then only the
# production dependencies; the demo app's workspace link is not part of Medic.
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && node -e "const fs=require('fs'); fs.rmSync('node_modules/medic-demo-app',{force:true}); fs.mkdirSync('data'); fs.copyFileSync('runbook.json','data/runbook.json')"

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    MEDIC_RUNBOOK_PATH=/data/runbook.json
WORKDIR /app
COPY --from=build /build/package.json ./
COPY --from=build /build/node_modules node_modules
COPY --from=build /build/dist dist
# The runbook is what the worker learns: a volume the non-root user can write, seeded with the repo's.
COPY --from=build --chown=node:node /build/data /data
VOLUME /data
USER node
STOPSIGNAL SIGTERM

# The worker: the only one that needs the engine socket (mount it, and add the socket's group with
# group_add). Healthy while it runs and reaches Temporal: it touches a file every 10 s (src/worker-health.ts).
FROM runtime AS worker
ENV MEDIC_WORKFLOW_BUNDLE=/app/dist/workflow-bundle.js MEDIC_LOG_FORMAT=json
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "dist/healthcheck.js", "worker"]
CMD ["node", "dist/worker.js"]

# The API: listens on all interfaces of its container (set MEDIC_HOST=127.0.0.1 on host networking).
FROM runtime AS api
ENV MEDIC_HOST=0.0.0.0 MEDIC_PORT=3000 MEDIC_LOG_FORMAT=json
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "dist/healthcheck.js", "api"]
CMD ["node", "dist/server.js"]
