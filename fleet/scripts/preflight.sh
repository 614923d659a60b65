# Reads, in one session, everything preflight needs: the facts, each unit's
# properties, each target file's state, and the host's runs. One session
# instead of about ten: each costs a round trip and a login shell on the
# host, and in a busy batch the shells queue for CPU.
#
# Parameters: $1 the runs directory, $2 the number of units, the units, then
# one "content|-" and path pair per target ("content": also send the file,
# base64, to diff it).
#
# Output: every line starts with its kind and, for units and files, their
# index: the inventory's paths never come back as text to be parsed.
#   fact KEY=VALUE                   the facts (lib/facts.sh)
#   unit I, then prop KEY=VALUE...   unit I's properties (systemctl show)
#   unit-error I MESSAGE             systemctl show failed for unit I
#   link I TARGET                    target I is a symlink
#   stat I MODE USER GROUP SIZE      target I exists (stat -L; MODE in hex)
#   sha256 I SUM                     target I is a regular file
#   content I BASE64                 its content, when asked for
#   missing I DIR                    target I does not exist; DIR is its
#                                    nearest existing parent
#   avail I KIB                      free 1K blocks where target I goes
#   run ID                           a run manifest in the runs directory
#   manifest BASE64                  the newest of them
#   restored RECORD                  its guard's record, if the guard
#                                    restored the host (guard-restore.sh)
# Exit status: 0; 1 when a target cannot be read or examined (the reason on
# stderr).

export LC_ALL=C
runs=$1 n=$2
shift 2
fp='fact '

#include lib/facts.sh

i=0
while [ "$i" -lt "$n" ]; do
  if out=$(systemctl show --no-pager -- "$1" 2>&1); then
    printf 'unit %d\n' "$i"
    printf '%s\n' "$out" | sed 's/^/prop /'
  else
    printf 'unit-error %d %s\n' "$i" "$(printf '%s' "$out" | tr '\n' ' ')"
  fi
  i=$((i+1)) && shift
done
i=0
while [ "$#" -ge 2 ]; do
  want=$1 p=$2
  shift 2
  [ -L "$p" ] && printf 'link %d %s\n' "$i" "$(readlink -- "$p" | tr '\n' ' ')"
  if out=$(stat -L -c '%f %U %G %s' -- "$p" 2>&1); then
    printf 'stat %d %s\n' "$i" "$out"
    d=$p
    if [ -f "$p" ]; then
      sum=$(sha256sum < "$p") || exit 1
      printf 'sha256 %d %s\n' "$i" "${sum%% *}"
      [ "$want" = content ] && printf 'content %d %s\n' "$i" "$(base64 -w0 < "$p")"
    fi
  else
    case $out in
    *"No such file or directory"*|*"Not a directory"*) ;;
    *) printf '%s\n' "$out" >&2; exit 1 ;;
    esac
    # The inventory's paths are absolute, clean and free of control
    # characters: their parents are prefixes, no dirname(1) needed.
    d=${p%/*}
    while [ -n "$d" ] && [ ! -e "$d" ]; do d=${d%/*}; done
    d=${d:-/}
    printf 'missing %d %s\n' "$i" "$d"
  fi
  # Available 1K blocks, as df -P -k counts them: f_bavail * f_frsize.
  fs=$(stat -f -L -c '%a %S' -- "$d") || exit 1
  printf 'avail %d %s\n' "$i" "$(( ${fs% *} * ${fs#* } / 1024 ))"
  i=$((i+1))
done
[ -d "$runs" ] || exit 0
newest=
for f in "$runs"/*.json; do
  [ -e "$f" ] || continue
  b=${f##*/}
  case $b in
  [0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]_[0-9][0-9][0-9][0-9][0-9][0-9].json) printf 'run %s\n' "${b%.json}"; newest=$f ;;
  esac
done
[ -z "$newest" ] || printf 'manifest %s\n' "$(base64 -w0 < "$newest")"
[ -z "$newest" ] || [ ! -f "${newest%.json}.restored" ] || printf 'restored %s\n' "$(tr '\n' ' ' < "${newest%.json}.restored")"
