# Removes each directory that exists and is empty, in the order given
# (deepest first); a missing one was never made (a run that failed before
# it) and a non-empty one holds someone else's files.
#
# Parameters: the directories.
# Exit status: 0; 1 when rmdir fails (its words on stderr).

for d in "$@"; do
  [ -d "$d" ] || continue
  rmdir --ignore-fail-on-non-empty -- "$d" || exit 1
done
