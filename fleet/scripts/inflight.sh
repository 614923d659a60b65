# Counts each unit's connections in flight, in one session: what a stop
# about to happen (the reboot's) will have to end.
#
# Parameters: the units.
# Output: "inflight I N" for unit I (lib/inflight.sh); nothing without ss.
# Exit status: 0. It changes nothing on the host.

#include lib/inflight.sh
inflight "$@"
