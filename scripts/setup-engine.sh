#!/usr/bin/env bash
# Installs Podman (which serves the Docker Engine API) and runc from the system's package manager.
# Only needed where no Docker engine is available. Explicit by design: `npm start` never installs
# system packages by itself.
set -euo pipefail

if command -v podman >/dev/null 2>&1 && command -v runc >/dev/null 2>&1; then
  echo "[setup:engine] podman and runc are already installed: $(podman --version)"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "[setup:engine] this script knows apt only; install Podman (or Docker) with your package manager" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "[setup:engine] will run: ${SUDO:+$SUDO }apt-get install -y podman runc"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq podman runc >/dev/null
echo "[setup:engine] installed $(podman --version)"
