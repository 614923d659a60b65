# Removes the temporary files that uploads of the given runs left beside
# each path: ".NAME.fleetfix-tmp-RUN-HEX" (16 hex digits; NAME cut to 191
# bytes as the upload cuts it), which a controller killed or cut off during
# a push leaves behind. Other files, other runs' among them, stay.
#
# Parameters: $1 how many run ids follow, the run ids, then the paths.
# Output: "removed PATH" for each file removed.
# Exit status: 0; 1 when a file cannot be removed.

n=$1
shift
ids=
while [ "$n" -gt 0 ]; do ids="$ids $1"; shift; n=$((n - 1)); done
for p in "$@"; do
  d=${p%/*} b=$(printf '%.191s' "${p##*/}")
  for id in $ids; do
    for f in "$d/.$b.fleetfix-tmp-$id-"????????????????; do
      case ${f##*-} in *[!0-9a-f]*) continue ;; esac
      [ -f "$f" ] || continue
      rm -f -- "$f" || exit 1
      echo "removed $f"
    done
  done
done
