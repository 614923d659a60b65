# Reads, in one session, everything preflight needs: the facts, each unit's
# properties, each target file's state, and the host's runs. One session
# instead of about ten: each costs a round trip and a login shell on the
# host, and in a busy batch the shells queue for CPU.
#
# Parameters: $1 the runs directory, $2 the number of units, the units, then
# one WANT and path pair per target. WANT is "-" or a comma-separated list
# of: "content" (also send the file, base64, to diff it), "owner=U[:G]"
# (check the user and group exist), "verify=BASE64" (the file's new
# content, a drop-in: load it with systemd-analyze verify, where the host
# has it, and report what systemd says about it).
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
#   avail I KIB DEV                  free 1K blocks where target I goes,
#                                    on the filesystem of device DEV
#   no-user I NAME, no-group I NAME  target I's owner does not exist
#   verify I MESSAGE                 systemd's complaint about target I's
#                                    new content (one line each)
#   fact systemd_analyze=no          no systemd-analyze: nothing verified
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
command -v systemd-analyze >/dev/null 2>&1 || printf '%ssystemd_analyze=no\n' "$fp"
command -v getent >/dev/null 2>&1 && getent=yes || getent=
# exists DB NAME: is NAME in the passwd or group database?
exists() {
  if [ -n "$getent" ]; then getent "$1" "$2" >/dev/null; return; fi
  case $1 in
  passwd) id -u -- "$2" >/dev/null 2>&1 ;;
  *) grep -q "^$2:" /etc/group ;;
  esac
}
# verify I PATH BASE64: load the unit with PATH's new content as its
# drop-in, from a copy in a temporary directory, which systemd-analyze puts
# first in the unit path; only what it says of that drop-in counts (the
# unit's other problems are not the rollout's).
verify() {
  command -v systemd-analyze >/dev/null 2>&1 || return 0
  vunit=${2%/*} && vname=${2##*/} && vunit=${vunit##*/} && vunit=${vunit%.d}
  frag=$(systemctl show -P FragmentPath -- "$vunit" 2>/dev/null) && [ -f "$frag" ] || return 0
  tmp=$(mktemp -d) || return 0
  vfile=$tmp/$vunit.d/$vname
  mkdir -- "$tmp/$vunit.d" && cp -- "$frag" "$tmp/$vunit" &&
    printf '%s' "$3" | base64 -d > "$vfile" &&
    systemd-analyze verify --man=no -- "$tmp/$vunit" 2>&1 |
      while IFS= read -r l; do
        case $l in "$vfile:"*) printf 'verify %d line %s\n' "$1" "${l#"$vfile:"}" ;; esac
      done
  rm -rf -- "$tmp"
}
i=0
while [ "$#" -ge 2 ]; do
  want=$1 p=$2
  shift 2
  flags=$want want=
  set -f && IFS=,
  for f in $flags; do
    case $f in
    content) want=content ;;
    owner=*)
      u=${f#owner=} g=
      case $u in *:*) g=${u#*:} u=${u%%:*} ;; esac
      exists passwd "$u" || printf 'no-user %d %s\n' "$i" "$u"
      [ -z "$g" ] || exists group "$g" || printf 'no-group %d %s\n' "$i" "$g"
      ;;
    verify=*) verify "$i" "$p" "${f#verify=}" ;;
    esac
  done
  unset IFS && set +f
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
  fs=$(stat -f -L -c '%a %S' -- "$d") && dev=$(stat -L -c '%d' -- "$d") || exit 1
  printf 'avail %d %s %s\n' "$i" "$(( ${fs% *} * ${fs#* } / 1024 ))" "$dev"
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
