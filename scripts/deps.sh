#!/bin/bash
# Installs what fleetfix's lab and tests need on a Debian 12 machine (as root):
# Debian packages, only when missing, then the Go modules and golangci-lint.
# `deps.sh tools` installs golangci-lint alone (no root needed).
set -euo pipefail
cd "$(dirname "$0")/.."
# Pinned: a new golangci-lint brings new findings; bump it in a commit of its own.
golangci_lint_version=v2.15.0
golangci_lint=bin/golangci-lint

# tools builds golangci-lint from the Go module proxy into bin/, unless the
# pinned version is there already.
tools() {
  if [ "$("$golangci_lint" version --short 2>/dev/null)" = "${golangci_lint_version#v}" ]; then return; fi
  echo "deps: building golangci-lint $golangci_lint_version"
  GOBIN="$PWD/bin" go install "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$golangci_lint_version"
}

if ! command -v go >/dev/null; then
  if [ -x /usr/local/go/bin/go ]; then export PATH=$PATH:/usr/local/go/bin; else
    echo "deps: Go 1.26 or later is needed (https://go.dev/dl), at /usr/local/go or on PATH" >&2; exit 1
  fi
fi
if [ "${1:-}" = tools ]; then tools; exit; fi

# gcc and libc6-dev: the race detector (make unit) needs cgo. chromium: the
# HTML report's test loads the page headless and checks its screenshot.
# ansible-core: ansible/'s test compares the import with ansible-inventory --list.
pkgs=(systemd-container mmdebstrap iproute2 openssh-client openssh-server tmux procps make gcc libc6-dev chromium ansible-core)
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
go mod download
tools
