# The gluster-ts command in a container: `docker build -t gluster-ts .`, then
#   docker run --rm -p 8080:8080 -v "$PWD/gateway.yaml:/etc/gluster-ts/gateway.yaml:ro" gluster-ts
# serves the volumes the config names (it must listen on 0.0.0.0: `host: 0.0.0.0`); any other
# command runs too: `docker run --rm gluster-ts ls -l gluster://gl1/vol1/`.
# Stage 1 builds the packages and packs them as they would be published; stage 2 installs those
# tarballs with npm, as a user of the registry would, and runs as the unprivileged `node` user.
FROM node:20-bookworm-slim AS build
RUN npm install -g pnpm@12.4.2
WORKDIR /src
COPY . .
RUN pnpm install --frozen-lockfile \
 && pnpm build \
 && mkdir /pkgs \
 && for p in rpc volume server http cli; do pnpm --dir "packages/$p" pack --pack-destination /pkgs; done

FROM node:20-bookworm-slim
COPY --from=build /pkgs /pkgs
RUN npm install --global --omit=dev /pkgs/*.tgz && rm -rf /pkgs /root/.npm
USER node
WORKDIR /home/node
EXPOSE 8080
# kill -HUP reloads the config, SIGTERM drains (docker stop), like the systemd unit in docs/http.md
STOPSIGNAL SIGTERM
ENTRYPOINT ["gluster-ts"]
CMD ["serve", "--config", "/etc/gluster-ts/gateway.yaml"]
