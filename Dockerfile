# twinedge hub image: the same two steps as the README (npm ci, then the command), on Node 20.
# Build: docker build -t twinedge .   Run: docker run --network host -v /etc/twinedge:/etc/twinedge:ro \
#   -v twinedge-data:/var/lib/twinedge twinedge run --config /etc/twinedge/config.yaml
FROM node:20-bookworm-slim AS build
WORKDIR /app
# onnxruntime-node's install script would download GPU binaries; its CPU binaries ship in the package.
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json .npmrc ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY proto ./proto
COPY scripts ./scripts
COPY device-profiles ./device-profiles
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/proto ./proto
COPY --from=build /app/scripts/twinedge.js ./scripts/twinedge.js
COPY --from=build /app/device-profiles ./device-profiles
# The shipped encoder models are read from where the sources keep them.
COPY --from=build /app/src/embeddings/models ./src/embeddings/models
COPY package.json ./
# The hub runs as its own unprivileged user; its data folder is a volume.
RUN useradd --system --home /var/lib/twinedge --shell /usr/sbin/nologin twinedge \
  && mkdir -p /var/lib/twinedge && chown twinedge /var/lib/twinedge && chmod 700 /var/lib/twinedge
USER twinedge
VOLUME ["/var/lib/twinedge"]
ENTRYPOINT ["node", "scripts/twinedge.js"]
CMD ["demo"]
