# Takes the run lock, or takes over a stale one.
#
# Parameters: $1 the lock directory, $2 the owner, $3 the lease in seconds,
# optionally $4 the stale owner to take it over from.
# Exit status: 0; 75 when another run holds it (who, on stderr).

#include lib/lock.sh
lock_take "$1" "$2" "$3" "${4-}"
