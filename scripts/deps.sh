#!/bin/bash
# Installs what fleetfix's lab and tests need on a Debian 12 machine (as root):
# Debian packages, only when missing, then the Go modules.
set -euo pipefail
pkgs=(systemd-container mmdebstrap iproute2 openssh-client openssh-server tmux procps make)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The lab's sshd tests run sshd by hand; the package's own service is not needed.
if ! command -v go >/dev/null; then
  if [ -x /usr/local/go/bin/go ]; then export PATH=$PATH:/usr/local/go/bin; else
    echo "deps: Go 1.26 or later is needed (https://go.dev/dl), at /usr/local/go or on PATH" >&2; exit 1
  fi
fi
go mod download
