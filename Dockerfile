# twinedge hub image: the steps of scripts/install.sh (npm ci, build, prune, then the command) on
# Node 20, for linux/amd64 and linux/arm64 alike: every base image here is multi-architecture and
# nothing is downloaded for one architecture.
#
#   docker buildx build --platform linux/amd64,linux/arm64 -t twinedge .
#   docker run --rm twinedge --help
#   docker run -d --name twinedge --network host --restart on-failure \
#     -v /etc/twinedge:/etc/twinedge:ro -v twinedge-data:/var/lib/twinedge \
#     -v /run/systemd/timesync:/run/systemd/timesync:ro \
#     twinedge run --config /etc/twinedge/config.yaml
#
# BLE needs --network host (Bluetooth sockets exist only in the host's network namespace) and
# CAP_NET_RAW, which Docker allows by default; scripts/docker-entrypoint.sh and the README's
# "Install on a hub" say how the unprivileged user gets it.
FROM node:20-bookworm-slim AS build
WORKDIR /app
# The BLE addon (@abandonware/bluetooth-hci-socket) compiles at install time; without a compiler
# npm leaves that optional dependency out and the hub has no BLE.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
# onnxruntime-node's install script would download GPU binaries; its CPU binaries ship in the package.
ENV ONNXRUNTIME_NODE_INSTALL=skip
# node-gyp compiles against the image's own Node headers rather than downloading them.
ENV npm_config_nodedir=/usr/local
COPY package.json package-lock.json .npmrc ./
# As install.sh: npm versions that block dependencies' install scripts must still run this one.
RUN printf '%s\n' 'allow-scripts=@abandonware/bluetooth-hci-socket' >>.npmrc && npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY proto ./proto
COPY scripts ./scripts
COPY device-profiles ./device-profiles
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
# The hub runs as its own unprivileged user, with a fixed uid so that files mounted from the host
# (the key must be 0600 and the user's own) can be given to it: chown 10001 hub.key.
ARG TWINEDGE_UID=10001
# hci-caps: see scripts/docker-entrypoint.sh. setcap comes from libcap2-bin, removed once used.
RUN groupadd --system --gid "$TWINEDGE_UID" twinedge \
  && useradd --system --uid "$TWINEDGE_UID" --gid twinedge --home-dir /var/lib/twinedge \
    --no-create-home --shell /usr/sbin/nologin twinedge \
  && install -d -o twinedge -g twinedge -m 0700 /var/lib/twinedge \
  && install -d -o root -g twinedge -m 0750 /etc/twinedge \
  && apt-get update \
  && apt-get install -y --no-install-recommends libcap2-bin \
  && install -d -m 0755 /usr/local/lib/twinedge \
  && install -o root -g twinedge -m 0750 /usr/bin/setpriv /usr/local/lib/twinedge/hci-caps \
  && setcap cap_net_raw,cap_net_admin+p /usr/local/lib/twinedge/hci-caps \
  && apt-get purge -y --auto-remove libcap2-bin \
  && rm -rf /var/lib/apt/lists/*
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/proto ./proto
COPY --from=build /app/scripts/twinedge.js ./scripts/twinedge.js
COPY --from=build /app/device-profiles ./device-profiles
# The shipped encoder models are read from where the sources keep them.
COPY --from=build /app/src/embeddings/models ./src/embeddings/models
COPY scripts/docker-entrypoint.sh /usr/local/bin/twinedge-entrypoint
USER twinedge
VOLUME ["/var/lib/twinedge"]
# The hub's loopback /healthz (http.port, 8470 unless the config says otherwise: then build with
# --build-arg TWINEDGE_HTTP_PORT=N). 200 while the hub runs and its event loop turns.
ARG TWINEDGE_HTTP_PORT=8470
ENV TWINEDGE_HTTP_PORT=${TWINEDGE_HTTP_PORT}
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + process.env.TWINEDGE_HTTP_PORT + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/bin/sh", "/usr/local/bin/twinedge-entrypoint", "node", "scripts/twinedge.js"]
# The demo serves HTTP only when asked: on the same port, so that the health check holds for it too.
CMD ["demo", "--http-port", "8470"]
