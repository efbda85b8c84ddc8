#!/usr/bin/env bash
# Installs Docker's daemon (Debian's docker.io) and docker-compose from the system's package manager, for
# the compose deployment test and the two-host test (Podman is the other host). Explicit by design:
# `npm start` never installs system packages by itself. A machine that already runs Docker needs none of it.
set -euo pipefail

if command -v dockerd >/dev/null 2>&1 && command -v docker-compose >/dev/null 2>&1; then
  echo "[setup:docker] dockerd and docker-compose are already installed: $(dockerd --version)"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "[setup:docker] this script knows apt only; install Docker and docker-compose with your package manager" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "[setup:docker] will run: ${SUDO:+$SUDO }apt-get install -y docker.io docker-compose"
$SUDO apt-get update -qq
# --no-install-recommends: the daemon, containerd and runc are all the tests need.
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends docker.io docker-compose >/dev/null
echo "[setup:docker] installed $(dockerd --version) and $(docker-compose --version)"
