#!/bin/sh
# Starts the minicloud app named by MINICLOUD_APP (identity, image, volume, network, controller, openstack-api,
# compute-agent) with the addresses a container needs:
# - PUBLIC_HOST: what other containers dial (default: this container's hostname, which Docker's DNS
#   resolves on the compose network); the service registers <PUBLIC_HOST>:<GRPC_PORT> in the catalog.
# - compute-agent: HOST_ID defaults to host-<hostname> (stable for the container's life, unique across
#   `--scale compute-agent=N`), TUNNEL_IP to the container's IP (its VTEP address).
set -eu
: "${MINICLOUD_APP:?set MINICLOUD_APP to the app to run}"
export PUBLIC_HOST="${PUBLIC_HOST:-$(hostname)}"
if [ "$MINICLOUD_APP" = "compute-agent" ]; then
  export HOST_ID="${HOST_ID:-host-$(hostname)}"
  export TUNNEL_IP="${TUNNEL_IP:-$(hostname -i | cut -d' ' -f1)}"
fi
exec node --require tsx/cjs "apps/$MINICLOUD_APP/src/main.ts" "$@"
