# journal.sh for the previous boot, in the same session as the check that
# the journal is persistent: a scan is one login and two sessions per host
# (this, then the stop settings of the units it found), and on a large
# fleet the hosts' sshd and shells are most of its cost.
#
# Parameters: none.
# Output: as journal.sh.
# Exit status: 99 when the journal is volatile (no /var/log/journal);
# otherwise as journal.sh.

[ -d /var/log/journal ] || exit 99
#include journal.sh
