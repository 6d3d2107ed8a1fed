# Weir runtime image.
#
# Weir is built on the HOST (`npm ci && npm run build`), not inside `docker
# build`: build containers may have no network (air-gapped CI, no registry), so
# nothing here downloads anything. This file only assembles the esbuild bundle
# (packages/cli/dist: weir.cjs + proto/) and the few node_modules the bundle
# keeps external (esbuild for `weir run`, msgpackr if external) into a slim
# runtime stage. `scripts/docker/build.sh` does all of it in one command.
#
# The base image is node:20-bookworm-slim; where it cannot be pulled,
# scripts/docker/local-base-image.sh builds a local stand-in with that tag.
ARG NODE_IMAGE=node:20-bookworm-slim

# ---- stage 1: pick the runtime files out of the host build -----------------
FROM ${NODE_IMAGE} AS assemble
WORKDIR /src
COPY package.json package-lock.json ./
COPY node_modules ./node_modules
COPY packages/cli/dist ./packages/cli/dist
COPY scripts/docker/collect-runtime-deps.cjs scripts/docker/healthcheck.cjs scripts/docker/prepare-dirs.cjs /build/
RUN test -f packages/cli/dist/weir.cjs \
      || { echo 'packages/cli/dist/weir.cjs is missing: run `npm ci && npm run build` on the host first' >&2; exit 1; } \
 && mkdir -p /opt/weir/packages/cli \
 && cp -a packages/cli/dist /opt/weir/packages/cli/dist \
 && cp package.json /opt/weir/package.json \
 && node /build/collect-runtime-deps.cjs /src /opt/weir \
 && cd /opt/weir \
 && node -e "require('esbuild').transformSync('const a: number = 1', { loader: 'ts' })" \
 && echo 'esbuild works in the image'

# ---- stage 2: runtime -------------------------------------------------------
FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    WEIR_HOME=/opt/weir \
    WEIR_IN_CONTAINER=1
COPY --from=assemble /opt/weir /opt/weir
COPY --from=assemble /build/healthcheck.cjs /build/prepare-dirs.cjs /opt/weir/scripts/
RUN printf '#!/bin/sh\nexec node /opt/weir/packages/cli/dist/weir.cjs "$@"\n' > /usr/local/bin/weir \
 && printf '#!/bin/sh\nexec node /opt/weir/scripts/healthcheck.cjs "$@"\n' > /usr/local/bin/weir-healthcheck \
 && printf '#!/bin/sh\nexec node /opt/weir/scripts/prepare-dirs.cjs "$@"\n' > /usr/local/bin/weir-prepare-dirs \
 && chmod 0755 /usr/local/bin/weir /usr/local/bin/weir-healthcheck /usr/local/bin/weir-prepare-dirs \
 && { id -u node >/dev/null 2>&1 || { groupadd -g 1000 node && useradd -u 1000 -g node -m -s /bin/sh node; }; } \
 && mkdir -p /weir/checkpoints /weir/output \
 && chown -R node:node /weir
USER node
WORKDIR /weir
# 6123 JobManager gRPC, 8081 REST/web, 6124 TaskManager data exchange, 9249 Prometheus metrics
EXPOSE 6123 6124 8081 9249
# node itself is the entry point (no shell in between), so signals reach Weir;
# compose adds `init: true` so a PID-1 zombie reaper/signal forwarder is in front.
ENTRYPOINT ["node", "/opt/weir/packages/cli/dist/weir.cjs"]
CMD ["--help"]
