# Releases the run lock if its owner still holds it.
#
# Parameters: $1 the lock directory, $2 the owner.
# Exit status: 0; non-zero when the lock cannot be removed.

#include lib/lock.sh
lock_release "$1" "$2"
