# deploy/backend/proxy.Dockerfile: Debian's nginx package, for the `proxy` service of compose.yaml.
# The configuration and the certificate are mounted, not built in.
FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nginx \
 && rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled/default
USER 65534:65534
ENTRYPOINT ["/usr/sbin/nginx", "-e", "stderr", "-c", "/etc/ravenxcope/backend/nginx.conf", "-g", "daemon off;"]
