# Writes stdin to the manifest, atomically (a temporary file beside it,
# fsynced, checked against the sha256, then renamed), creating the runs
# directory if needed. One session: a run saves its manifest several times
# per host, and an SFTP upload costs five round trips more.
#
# Parameters: $1 the manifest, $2 its sha256, then optionally $3 "lock" to
# first take the lock $4 for owner $5 with a lease of $6 seconds, taking it
# over from the stale owner $7 if given (writing nothing if it cannot), or
# "unlock" to release the lock $4 of owner $5 after.
# Input: the manifest.
# Exit status: 0; 3 when what arrived has another sha256; 75 when another
# run holds the lock; any other non-zero: a command failed (its words on
# stderr).

#include lib/lock.sh

set -eu
dst=$1 want=$2 dir=${1%/*} op=${3-}
[ "$op" != lock ] || lock_take "$4" "$5" "$6" "${7-}"
umask 077
[ -d "$dir" ] || mkdir -p -- "$dir"
tmp=$(mktemp -- "$dst.XXXXXX")
trap 'rm -f -- "$tmp"' EXIT
dd of="$tmp" conv=fsync status=none
got=$(sha256sum < "$tmp")
got=${got%% *}
if [ "$got" != "$want" ]; then echo "manifest arrived with sha256 $got, sent $want" >&2; exit 3; fi
mv -f -- "$tmp" "$dst"
trap - EXIT
sync -- "$dir" 2>/dev/null || :
[ "$op" != unlock ] || lock_release "$4" "$5"
