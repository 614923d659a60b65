# Included by restore.sh and guard-restore.sh.
#
# restore_file TARGET BACKUP SHA256 puts a backup back after checking it
# against the recorded sha256, atomically (copy beside the target, then
# rename). It runs in a subshell, so its exit and trap are its own: 0; 3
# when the backup or its copy has another sha256; 1 when a command failed
# (its words on stderr).
restore_file() (
  dst=$1 bak=$2 want=$3
  got=$(sha256sum -- "$bak" | cut -d' ' -f1)
  if [ "$got" != "$want" ]; then echo "backup $bak has sha256 $got, recorded $want" >&2; exit 3; fi
  tmp=$(mktemp -- "$(dirname -- "$dst")/.fleetfix-restore.XXXXXX") || exit 1
  trap 'rm -f -- "$tmp"' EXIT
  cp -p -- "$bak" "$tmp" && sync -- "$tmp" || exit 1
  got=$(sha256sum -- "$tmp" | cut -d' ' -f1)
  if [ "$got" != "$want" ]; then echo "copy of $bak has sha256 $got, expected $want" >&2; exit 3; fi
  mv -f -- "$tmp" "$dst" || exit 1
  trap - EXIT
)
