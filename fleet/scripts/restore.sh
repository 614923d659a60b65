# Puts backups back, each after checking it against the recorded sha256,
# atomically (copy beside the target, check the copy, then rename). A backup
# that fails does not stop the others: a rollback restores all it can, then
# reloads systemd, rather than leave a host half one way.
#
# Parameters: triples: the target, its backup, the backup's recorded sha256.
# Output: "restored I" for each triple I (from 0) put back.
# Exit status: 0; 3 when a backup or its copy has another sha256; any other
# non-zero: a command failed (its words on stderr). Either way every other
# triple was tried.

set -u
st=0 i=0 tmp=
trap 'rm -f -- "$tmp"' EXIT
restore() {
  got=$(sha256sum < "$bak") || return 1
  got=${got%% *}
  if [ "$got" != "$want" ]; then echo "backup $bak has sha256 $got, recorded $want" >&2; return 3; fi
  tmp=$(mktemp -- "${dst%/*}/.fleetfix-restore.XXXXXX") || return 1
  cp -p -- "$bak" "$tmp" || return 1
  sync -- "$tmp" || return 1
  got=$(sha256sum < "$tmp") || return 1
  got=${got%% *}
  if [ "$got" != "$want" ]; then echo "copy of $bak has sha256 $got, expected $want" >&2; return 3; fi
  mv -f -- "$tmp" "$dst" || return 1
  tmp=
}
while [ "$#" -ge 3 ]; do
  dst=$1 bak=$2 want=$3
  shift 3
  if restore; then
    echo "restored $i"
  else
    s=$?
    [ -z "$tmp" ] || rm -f -- "$tmp"
    tmp=
    [ "$st" = 3 ] || st=$s
  fi
  i=$((i+1))
done
exit "$st"
