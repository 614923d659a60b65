# Puts a backup back after checking it against the recorded sha256,
# atomically (copy beside the target, then rename).
#
# Parameters: $1 the target, $2 the backup, $3 the backup's recorded sha256.
# Exit status: 0; 3 when the backup or its copy has another sha256; any
# other non-zero: a command failed (its words on stderr).

#include lib/restore.sh

restore_file "$1" "$2" "$3"
