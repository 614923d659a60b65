# Removes a run's guard (lib/guard.sh): fleetfix confirms the run, or rolls
# it back, or the host never rebooted. First reports the guard's record if
# the guard already restored the host.
#
# Parameters: $1 the guard's name, $2 its record (the file its restore
# writes), $3 optionally a boot id: remove the guard only while the host is
# still in that boot, the one it was installed in, and not shutting down:
# the reboot it guards did not happen.
# Output: "restored RECORD" when the record exists; "kept" when the host is
# no longer in boot $3 or is shutting down; "removed" when there was a
# guard to remove.
# Exit status: 0; 1 when a command failed (its words on stderr).

#include lib/guard.sh

[ ! -f "$2" ] || printf 'restored %s\n' "$(tr '\n' ' ' < "$2")"
if [ -n "${3-}" ]; then
  # Rebooted, or the reboot under way (its job queued: the manager is
  # "stopping"): the guard is for the boot that comes.
  [ "$(cat /proc/sys/kernel/random/boot_id)" = "$3" ] || { echo kept; exit 0; }
  # Up, positively: while the host goes down systemctl may answer
  # "stopping", or, its manager already out of reach from a session that
  # outlives sshd's socket (ssh.socket), "offline" or nothing at all.
  case $(systemctl is-system-running 2>/dev/null) in
    running|degraded|starting|initializing|maintenance) ;;
    *) echo kept; exit 0 ;;
  esac
  # A shutdown job queued is the reboot under way, whatever the state says.
  if systemctl list-jobs --no-legend 2>/dev/null | grep -Eq '(reboot|poweroff|halt|kexec|shutdown)\.target'; then
    echo kept; exit 0
  fi
fi
guard_remove "$1"
