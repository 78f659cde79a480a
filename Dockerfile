# The cutover worker image (docker-compose.yml builds it): `node bin/cutover.js worker` as a non-root user.
# Debian slim rather than Alpine: the Temporal SDK's native core ships for glibc.
ARG NODE_VERSION=20

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No scripts: `prepare` would build before the sources are here (the build runs below). Dependencies first, so
# the layer is reused until package-lock.json changes.
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY contracts ./contracts
COPY config ./config
COPY azure ./azure
COPY activities ./activities
COPY client ./client
COPY cli ./cli
COPY plan ./plan
COPY simulator ./simulator
COPY worker ./worker
COPY workflows ./workflows
RUN npm run build && npm prune --omit=dev --ignore-scripts

FROM node:${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=production \
    CUTOVER_HOME=/home/node/.cutover \
    CUTOVER_EVIDENCE_DIR=/var/lib/cutover/evidence
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY examples ./examples
RUN mkdir -p /var/lib/cutover/evidence && chown node:node /var/lib/cutover/evidence
USER node
CMD ["node", "bin/cutover.js", "worker"]
