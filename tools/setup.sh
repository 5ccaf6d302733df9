#!/usr/bin/env bash
# Installs what minicloud needs on a fresh Debian machine of this kind (Node 20 + npm present):
# npm dependencies (when missing or out of date) and the Debian packages the cloud and the tests use
# (redis-server, nats-server, qemu-utils for qemu-img, xorriso for ISO fixtures, prometheus for
# promtool and `npm run cloud -- --with-prometheus`, docker-compose to validate deploy/, and Debian's
# OpenStack clients python3-openstackclient and python3-openstacksdk that drive the OpenStack REST
# front in the tests, and tempest for the interoperability tests) when absent.
# Idempotent and quiet when everything is there.
set -euo pipefail
cd "$(dirname "$0")/.."

need_pkgs=()
command -v redis-server >/dev/null 2>&1 || need_pkgs+=(redis-server)
command -v nats-server >/dev/null 2>&1 || need_pkgs+=(nats-server)
command -v qemu-img >/dev/null 2>&1 || need_pkgs+=(qemu-utils)
command -v xorriso >/dev/null 2>&1 || need_pkgs+=(xorriso)
command -v promtool >/dev/null 2>&1 || need_pkgs+=(prometheus)
command -v docker-compose >/dev/null 2>&1 || need_pkgs+=(docker-compose)
# Debian's own /usr/bin/openstack (a pyenv python3 earlier on PATH would not see the Debian modules)
[ -x /usr/bin/openstack ] || need_pkgs+=(python3-openstackclient)
/usr/bin/python3 -c 'import openstack' >/dev/null 2>&1 || need_pkgs+=(python3-openstacksdk)
# tempest 33 (Debian's) runs the OpenStack interoperability tests (`npm run test:interop`)
[ -x /usr/bin/tempest ] || need_pkgs+=(tempest)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${need_pkgs[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi

stamp=node_modules/.minicloud-lock-stamp
if [ ! -d node_modules ] || [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  echo "setup: installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi
