#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests (tests/web/), which drive it with Playwright through
# executable_path: Playwright's own browser download does not work here. Fonts are named explicitly because
# --no-install-recommends leaves them out and screenshots would show boxes. Idempotent and quiet: does
# nothing when Chromium is already installed; prints apt's log only when the install fails.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "browser-setup: need root or sudo to install chromium" >&2; exit 1; }
    SUDO="sudo"
fi

LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT
if ! { $SUDO apt-get update -qq \
    && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        chromium fonts-liberation fonts-dejavu-core; } >"$LOG" 2>&1; then
    cat "$LOG" >&2
    echo "browser-setup: installing chromium failed" >&2
    exit 1
fi
echo "browser-setup: $(/usr/bin/chromium --version 2>/dev/null) installed"
