# Included by lock.sh, unlock.sh, lock-renew.sh, lock-show.sh and
# save-manifest.sh, which takes the lock before a run's first save and
# releases it after its last in the same session. Two controllers never
# change one host at once.
#
# The lock is a directory (mkdir is atomic) holding owner, one line naming
# the run and its controller (host, pid, process start time, boot id), and
# lease, "SINCE EXPIRES" in seconds of the host's clock: the run renews the
# expiry while it holds the lock, so a lock whose lease has run out is one
# its run no longer holds.
#
# lock_take DIR OWNER LEASE [STALE] takes the lock for OWNER for LEASE
# seconds, or, when STALE is given and still holds it, takes it over from
# STALE; else exits 75 saying on stderr who holds it.
# lock_release DIR OWNER removes the lock if OWNER still holds it.
# lock_renew DIR OWNER LEASE moves the expiry to LEASE seconds from now
# (never earlier) if OWNER still holds the lock; exits 75 if not.
# lock_show DIR prints "owner LINE", "lease SINCE EXPIRES" and "now NOW"
# (each when there is one), nothing when there is no lock.
lock_take() {
  [ -d "${1%/*}" ] || mkdir -p -m 0700 -- "${1%/*}"
  if mkdir -m 0700 -- "$1" 2>/dev/null; then lock_write "$1" "$2" "$3" "$(date +%s)"; return 0; fi
  # The takeover's own lock (mkdir again) keeps two controllers from both
  # taking over the same stale lock.
  if [ -n "${4-}" ] && mkdir -- "$1/takeover" 2>/dev/null; then
    lo=
    { read -r lo < "$1/owner"; } 2>/dev/null || :
    if [ "$lo" = "$4" ]; then
      lock_write "$1" "$2" "$3" "$(date +%s)"
      rmdir -- "$1/takeover"
      return 0
    fi
    rmdir -- "$1/takeover"
  fi
  echo "another fleetfix run holds $1: $(cat -- "$1/owner" 2>/dev/null)" >&2
  exit 75
}
# lock_write DIR OWNER LEASE SINCE writes the owner and the lease, each
# replaced whole (a reader never sees half a line).
lock_write() {
  lw_now=$(date +%s)
  printf '%s\n' "$2" > "$1/owner.new" && mv -f -- "$1/owner.new" "$1/owner"
  printf '%s %s\n' "$4" $((lw_now + $3)) > "$1/lease.new" && mv -f -- "$1/lease.new" "$1/lease"
}
lock_release() {
  lo=
  { read -r lo < "$1/owner"; } 2>/dev/null || return 0
  [ "$lo" = "$2" ] || return 0
  rm -rf -- "$1"
}
lock_renew() {
  lo=
  { read -r lo < "$1/owner"; } 2>/dev/null || :
  if [ "$lo" != "$2" ]; then echo "the lock $1 is no longer this run's: ${lo:-gone}" >&2; exit 75; fi
  ls= le=0
  { read -r ls le < "$1/lease"; } 2>/dev/null || :
  [ -n "$ls" ] || ls=$(date +%s)
  lr_now=$(date +%s)
  [ $((lr_now + $3)) -gt "$le" ] || return 0
  lock_write "$1" "$2" "$3" "$ls"
}
lock_show() {
  [ -d "$1" ] || return 0
  lo= ll=
  { read -r lo < "$1/owner"; } 2>/dev/null || :
  { read -r ll < "$1/lease"; } 2>/dev/null || :
  echo "owner $lo"
  [ -z "$ll" ] || echo "lease $ll"
  echo "now $(date +%s)"
}
