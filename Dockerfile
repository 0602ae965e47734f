# Herald in a container: `docker build -t herald .` then see compose.yaml, or
#   docker run -p 8071:8071 -v herald:/var/lib/herald herald
# Two stages: the build (devDependencies, Vite for the dashboard, the receiver's JavaScript) and a
# runtime with production dependencies only, run as the image's unprivileged `node` user.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY . .
# `npm ci` runs `prepare`, which builds the receiver (dist/) and the dashboard (ui/dist/).
RUN npm ci --no-audit --no-fund && npm prune --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    HERALD_HOST=0.0.0.0 \
    HERALD_DATA_DIR=/var/lib/herald
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/bin ./bin
COPY --from=build /app/src ./src
COPY --from=build /app/dist ./dist
COPY --from=build /app/ui/dist ./ui/dist
COPY --from=build /app/node_modules ./node_modules
RUN mkdir -p /var/lib/herald && chown node:node /var/lib/herald
USER node
VOLUME /var/lib/herald
EXPOSE 8071
# Readiness, not liveness: it fails while the database is unreachable and while draining after SIGTERM.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8071/api/v1/health/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The same flags as bin/herald.js's first line; exec form, so SIGTERM reaches Herald and it drains.
CMD ["node", "--max-semi-space-size=8", "--v8-pool-size=0", "bin/herald.js", "serve"]
