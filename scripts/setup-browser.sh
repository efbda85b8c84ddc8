#!/usr/bin/env bash
# Installs Chromium from the system's package manager for the console's browser test
# (test/e2e/console.test.ts drives /usr/bin/chromium with playwright-core). Playwright's own browser
# download is never used: it fetches a build from the internet, which these machines cannot reach.
set -euo pipefail

CHROMIUM=/usr/bin/chromium
if [ -x "$CHROMIUM" ]; then
  echo "[setup:browser] chromium is already installed: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "[setup:browser] this script knows apt only; install Chromium at $CHROMIUM with your package manager" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "[setup:browser] will run: ${SUDO:+$SUDO }apt-get install -y chromium"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
echo "[setup:browser] installed $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
