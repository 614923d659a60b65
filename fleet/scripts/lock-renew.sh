# Renews the run lock's lease, if its owner still holds it.
#
# Parameters: $1 the lock directory, $2 the owner, $3 the lease in seconds
# from now (an expiry further off is kept).
# Exit status: 0; 75 when the lock is no longer the owner's.

#include lib/lock.sh
lock_renew "$1" "$2" "$3"
