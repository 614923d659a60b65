# Shows who holds the run lock, on the host's clock.
#
# Parameters: $1 the lock directory.
# Output: "owner LINE", "lease SINCE EXPIRES" (when it has one) and "now
# NOW", seconds since the epoch; nothing when there is no lock.
# Exit status: 0.

#include lib/lock.sh
lock_show "$1"
