# Prints what a run needs to know of a host, one key=value a line (see
# lib/facts.sh).
#
# Parameters: none.
# Exit status: 0.

fp=
#include lib/facts.sh
