# Puts backups back, each after checking it against the recorded sha256,
# atomically (copy beside the target, check the copy, then rename). A backup
# that fails does not stop the others: a rollback restores all it can, then
# reloads systemd, rather than leave a host half one way.
#
# Parameters: triples: the target, its backup, the backup's recorded sha256.
# Output: "restored I" for each triple I (from 0) put back.
# Exit status: 0; 3 when a backup or its copy has another sha256; any other
# non-zero: a command failed (its words on stderr). Either way every other
# triple was tried.

#include lib/restore.sh

set -u
st=0 i=0
while [ "$#" -ge 3 ]; do
  if restore_file "$1" "$2" "$3"; then
    echo "restored $i"
  else
    s=$?
    [ "$st" = 3 ] || st=$s
  fi
  shift 3
  i=$((i+1))
done
exit "$st"
