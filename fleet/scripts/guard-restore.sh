# A run's guard: the restore its timer starts confirm_timeout after the
# boot that followed the rollout's reboot, unless fleetfix confirmed the run
# (which removes the guard) first. It puts the host back as the run found
# it, as `fleetfix rollback` does but without the health checks: each
# changed file from its backup checked by sha256, each file the run created
# removed (if still what the run wrote), daemon-reload, each unit restarted
# (or stopped, if it was not active); then it records that it did (the
# record file, and the manifest's state and note), releases the host's lock
# if the controller that died still holds it, and removes itself. The
# guard's script is this text after a "set --" line written from the run's
# manifest.
#
# Parameters: $1 the run id, $2 its manifest, $3 the record to write, $4 the
# guard's name, $5 the host's run lock, then the operations, in order:
#   restore PATH BACKUP SHA256   put the checked backup back
#   remove PATH SHA256           remove a file the run created, if it has that sha256
#   rmdir DIR                    remove a directory the run created, if empty
#   reload                       systemctl daemon-reload
#   restart UNIT, stop UNIT      systemctl restart or stop the unit
# Output: one line per operation (the journal keeps them).
# Exit status: 0; 1 when an operation failed (the others still ran).

#include lib/restore.sh
#include lib/guard.sh

run=$1 manifest=$2 record=$3 name=$4 lock=$5
shift 5
failed=0
fail() { echo "$1 failed" >&2; failed=1; }
while [ "$#" -gt 0 ]; do
  case $1 in
  restore) if restore_file "$2" "$3" "$4"; then echo "restored $2"; else fail "restore $2"; fi; shift 4 ;;
  remove)
    sum=$(sha256sum < "$2" 2>/dev/null)
    if [ "${sum%% *}" = "$3" ]; then rm -f -- "$2" && echo "removed $2" || fail "remove $2"
    elif [ -e "$2" ]; then echo "$2 changed since the run wrote it: left in place"; fi
    shift 3 ;;
  rmdir) { [ ! -d "$2" ] || rmdir --ignore-fail-on-non-empty -- "$2"; } || fail "rmdir $2"; shift 2 ;;
  reload) systemctl daemon-reload || fail daemon-reload; shift ;;
  restart|stop) systemctl "$1" -- "$2" && echo "$1 $2" || fail "$1 $2"; shift 2 ;;
  *) echo "unknown operation $1" >&2; exit 1 ;;
  esac
done
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
umask 077
printf 'restored_at=%s failed=%s boot_id=%s\n' "$now" "$failed" "$(cat /proc/sys/kernel/random/boot_id)" > "$record.tmp" &&
  mv -f -- "$record.tmp" "$record" || fail "record $record"
note="restored by the guard at $now"
[ "$failed" = 0 ] || note="$note, with failures"
if [ -f "$manifest" ]; then
  # The manifest is fleetfix's indented JSON: its top-level members are
  # the lines indented by two spaces, "state" never the last. It has no
  # note yet: only a guard's restore gives a run one, and such a run is
  # neither resumed nor guarded again.
  sed -e "s/^  \"state\": \"[^\"]*\",\$/  \"state\": \"rolled-back\",\\
  \"note\": \"$note\",/" -- "$manifest" > "$manifest.guard" && mv -f -- "$manifest.guard" "$manifest" || fail "record in $manifest"
fi
owner=
{ read -r owner < "$lock/owner"; } 2>/dev/null
case $owner in "run $run "*) rm -rf -- "$lock" ;; esac
guard_remove "$name" >/dev/null || fail "remove the guard"
sync
exit "$failed"
