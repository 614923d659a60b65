# Puts a backup back after checking it against the recorded sha256,
# atomically (copy beside the target, then rename).
#
# Parameters: $1 the target, $2 the backup, $3 the backup's recorded sha256.
# Exit status: 0; 3 when the backup or its copy has another sha256; any
# other non-zero: a command failed (its words on stderr).

set -eu
dst=$1 bak=$2 want=$3
got=$(sha256sum -- "$bak" | cut -d' ' -f1)
if [ "$got" != "$want" ]; then echo "backup $bak has sha256 $got, recorded $want" >&2; exit 3; fi
tmp=$(mktemp -- "$(dirname -- "$dst")/.fleetfix-restore.XXXXXX")
trap 'rm -f -- "$tmp"' EXIT
cp -p -- "$bak" "$tmp"
sync -- "$tmp"
got=$(sha256sum -- "$tmp" | cut -d' ' -f1)
if [ "$got" != "$want" ]; then echo "copy of $bak has sha256 $got, expected $want" >&2; exit 3; fi
mv -f -- "$tmp" "$dst"
trap - EXIT
