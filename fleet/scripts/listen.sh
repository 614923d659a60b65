# Lists the TCP sockets each unit listens on, for a health check to suggest.
#
# Parameters: the units.
# Output: "listen I ADDRESS:PORT" for unit I (lib/inflight.sh); nothing
# without ss.
# Exit status: 0. It changes nothing on the host.

#include lib/inflight.sh
listening "$@"
