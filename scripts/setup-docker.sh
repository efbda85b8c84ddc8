#!/usr/bin/env bash
# Installs Docker's daemon (Debian's docker.io) and docker-compose from the system's package manager, for
# the compose deployment test and the two-host test (Podman is the other host), and Prometheus's and
# Alertmanager's own tools (promtool, amtool) that check the compose monitoring profile's files, and HAProxy,
# the Docker socket proxy the compose stack runs (its stand-in image holds Debian's binary). Explicit by design:
# `npm start` never installs system packages by itself. A machine that already runs Docker needs none of it.
set -euo pipefail

if command -v dockerd >/dev/null 2>&1 && command -v docker-compose >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 && command -v amtool >/dev/null 2>&1 && command -v haproxy >/dev/null 2>&1; then
  echo "[setup:docker] dockerd and docker-compose are already installed: $(dockerd --version)"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "[setup:docker] this script knows apt only; install Docker and docker-compose with your package manager" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
PACKAGES="docker.io docker-compose prometheus prometheus-alertmanager haproxy"
echo "[setup:docker] will run: ${SUDO:+$SUDO }apt-get install -y --no-install-recommends $PACKAGES"
$SUDO apt-get update -qq
# --no-install-recommends: the daemon, containerd, runc, the two tools and HAProxy are all the tests need. No
# service of these packages may start (the tests start their own dockerd on a project socket; Prometheus
# and HAProxy would listen on all interfaces): a policy-rc.d that refuses, unless the machine already has one.
temporary_policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  temporary_policy=1
fi
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $PACKAGES >/dev/null
if [ -n "$temporary_policy" ]; then $SUDO rm -f /usr/sbin/policy-rc.d; fi
echo "[setup:docker] installed $(dockerd --version) and $(docker-compose --version)"
