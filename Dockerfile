# smppgw: build with the compilers better-sqlite3 needs, run on a slim image as a non-root user.
# Node 26, the current LTS (better-sqlite3 12 supports it); CI runs the built dist/ on the same
# Node line with production dependencies only (scripts/smoke-node-lts.sh), since no image is built
# there. Both stages share one base, so the native module matches the runtime's glibc and ABI.
FROM node:26-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY src ./src
COPY test ./test
COPY scripts ./scripts
COPY config ./config
# `npm ci` compiles native modules and runs `prepare` (the TypeScript build).
RUN npm ci && npm prune --omit=dev

FROM node:26-slim
ENV NODE_ENV=production \
    SMPPGW_STORE__PATH=/data/smppgw.db
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/config ./config
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
# SMPP, SMPP over TLS, metrics and health.
EXPOSE 2775 3550 8080
# Liveness, not readiness: a gateway that cannot store right now (disk full, database lost) is
# kept, not restarted, since it holds what it acknowledged. The port comes from the config and the
# environment (SMPPGW_HTTP__PORT), as the gateway's own does.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "dist/src/cli.js", "health", "--config", "/app/config/smppgw.yaml"]
ENTRYPOINT ["node", "dist/src/cli.js"]
CMD ["start", "--config", "/app/config/smppgw.yaml"]
