#!/usr/bin/env bash
# Install Chromium for the report screenshot test (tests/test_report_screenshot.py), if it is missing.
# Quiet, idempotent and non-fatal: without root or apt, it says so and exits 0, and the test skips.
set -u

if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then
  echo "chromium already installed: $(command -v chromium || echo /usr/bin/chromium)"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install_chromium: apt-get not found; install chromium with your package manager" >&2
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
  else
    echo "install_chromium: needs root (or passwordless sudo) to apt-get install chromium" >&2
    exit 0
  fi
fi
export DEBIAN_FRONTEND=noninteractive
if $SUDO apt-get update -qq >/dev/null 2>&1 && $SUDO apt-get install -y -qq chromium >/dev/null 2>&1; then
  echo "chromium installed: $(command -v chromium)"
else
  echo "install_chromium: apt-get install chromium failed; the screenshot test will skip" >&2
fi
exit 0
