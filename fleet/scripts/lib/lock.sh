# Included by lock.sh, unlock.sh and save-manifest.sh, which takes the lock
# before a run's first save and releases it after its last in the same
# session. Two controllers never change one host at once.
#
# lock_take DIR OWNER takes the host's run lock (a directory: mkdir is
# atomic) for OWNER, or exits 75 saying on stderr who holds it.
# lock_release DIR OWNER removes the lock if OWNER still holds it.
lock_take() {
  [ -d "${1%/*}" ] || mkdir -p -m 0700 -- "${1%/*}"
  if mkdir -m 0700 -- "$1" 2>/dev/null; then printf '%s\n' "$2" > "$1/owner"; return 0; fi
  echo "another fleetfix run holds $1: $(cat -- "$1/owner" 2>/dev/null); if it is gone, remove $1" >&2
  exit 75
}
lock_release() {
  lo=
  { read -r lo < "$1/owner"; } 2>/dev/null || return 0
  [ "$lo" = "$2" ] || return 0
  rm -rf -- "$1"
}
