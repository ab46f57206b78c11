#!/usr/bin/env bash
# Installs Debian's Dovecot IMAP server (and openssl) for tests/mailsort/test_imap.py. The tests start their
# own private instance (own config, 127.0.0.1, free high ports, temp dir), so the system service is neither
# needed nor started here. Idempotent and quiet: does nothing when both are already installed.
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }

if have dovecot && have openssl; then
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "dovecot-setup: need root or sudo to install dovecot-imapd" >&2; exit 1; }
    SUDO="sudo"
fi

# Keep the package from starting (or failing to start) the system Dovecot on 143/993: a policy-rc.d that
# answers 101 ("action forbidden") makes invoke-rc.d / deb-systemd-invoke skip it. Only ours is removed.
POLICY=/usr/sbin/policy-rc.d
OWN_POLICY=0
if [ ! -e "$POLICY" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
    $SUDO chmod 755 "$POLICY"
    OWN_POLICY=1
fi
cleanup() { if [ "$OWN_POLICY" = 1 ]; then $SUDO rm -f "$POLICY"; fi; }
trap cleanup EXIT

LOG=$(mktemp)
if ! { $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends dovecot-imapd openssl; } \
    >"$LOG" 2>&1; then
    cat "$LOG" >&2
    echo "dovecot-setup: installing dovecot-imapd failed" >&2
    exit 1
fi
rm -f "$LOG"
echo "dovecot-setup: $(/usr/sbin/dovecot --version 2>/dev/null || dovecot --version) installed"
