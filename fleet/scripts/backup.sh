# Backs up files. Each copy lands by hard link, which fails if the backup
# exists: a backup is never overwritten, and never seen half-written. A
# backup already there with the right sha256 (made by the run being resumed)
# is kept; with another, the script refuses.
#
# Parameters: triples: the file, its backup path and its sha256.
# Output: "made" or "kept", one line per file.
# Exit status: 0; 3 when a backup exists with another sha256 or the copy's
# sha256 is not the file's; any other non-zero: a command failed (its words
# on stderr).

set -eu
while [ "$#" -ge 3 ]; do
  src=$1 dst=$2 want=$3
  shift 3
  if [ -e "$dst" ] || [ -L "$dst" ]; then
    got=$(sha256sum < "$dst")
    got=${got%% *}
    if [ "$got" != "$want" ]; then echo "backup $dst exists with sha256 $got, not $want: refusing to overwrite it" >&2; exit 3; fi
    echo kept
    continue
  fi
  tmp=$(mktemp -- "${dst%/*}/.fleetfix-bak.XXXXXX")
  trap 'rm -f -- "$tmp"' EXIT
  cp -p -- "$src" "$tmp"
  sync -- "$tmp"
  got=$(sha256sum < "$tmp")
  got=${got%% *}
  if [ "$got" != "$want" ]; then echo "copy of $src has sha256 $got, expected $want" >&2; exit 3; fi
  ln -T -- "$tmp" "$dst"
  rm -f -- "$tmp"
  trap - EXIT
  echo made
done
