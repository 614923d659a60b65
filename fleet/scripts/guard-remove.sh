# Removes a run's guard (lib/guard.sh): fleetfix confirms the run, or rolls
# it back, or the host never rebooted. First reports the guard's record if
# the guard already restored the host.
#
# Parameters: $1 the guard's name, $2 its record (the file its restore
# writes), $3 optionally a boot id: remove the guard only while the host is
# still in that boot (the boot it was installed in: the reboot it guards
# did not happen).
# Output: "restored RECORD" when the record exists; "kept" when the host is
# no longer in boot $3; "removed" when there was a guard to remove.
# Exit status: 0; 1 when a command failed (its words on stderr).

#include lib/guard.sh

[ ! -f "$2" ] || printf 'restored %s\n' "$(tr '\n' ' ' < "$2")"
if [ -n "${3-}" ] && [ "$(cat /proc/sys/kernel/random/boot_id)" != "$3" ]; then echo kept; exit 0; fi
guard_remove "$1"
