# Takes the run lock.
#
# Parameters: $1 the lock directory, $2 the owner.
# Exit status: 0; 75 when another run holds it (who, on stderr).

#include lib/lock.sh
lock_take "$1" "$2"
