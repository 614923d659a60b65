#!/bin/sh
# Remakes docs/tui-running.png and docs/tui-timings.png from a real run: the
# tui end-to-end test (its own 3-host lab, the real binary in a 120x40 tmux)
# saves the colored screens (tmux capture-pane -p -e) of the running table
# and of the timings view; docs/shot renders them to PNG with DejaVu Sans
# Mono (Debian: fonts-dejavu-core, tmux). Needs root, like every lab test.
set -eu
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
shots=$(mktemp -d)
trap 'rm -rf "$shots"' EXIT
FLEETFIX_TUI_SHOTS="$shots" FLEETFIX_LAB_REQUIRED=1 go test -count=1 -run TestEndToEndInTmux ./tui/
cd docs/shot
go run . -in "$shots/running.ans" -out ../tui-running.png
go run . -in "$shots/timings.ans" -out ../tui-timings.png
