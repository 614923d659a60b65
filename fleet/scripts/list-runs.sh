# Lists the runs directory $1, one entry a line; nothing when it does not
# exist.
#
# Parameters: $1 the runs directory.
# Exit status: 0; ls's when the directory cannot be listed.

[ -d "$1" ] || exit 0
ls -1 -- "$1"
