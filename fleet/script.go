package fleet

import (
	"context"
	"errors"
	"slices"
)

// Remote shell scripts. Each runs as `sh -c SCRIPT NAME ARGS...`: values reach
// the script only as positional parameters, never spliced into its text, so
// no path or unit name can be executed.
type script struct {
	name string
	body string
	// shell runs the script: "" is sh.
	shell string
}

func (s script) argv(args []string) []string {
	shell := s.shell
	if shell == "" {
		shell = "sh"
	}
	return append([]string{shell, "-c", s.body, "fleetfix-" + s.name}, args...)
}

func runScript(ctx context.Context, h Host, s script, args ...string) ([]byte, error) {
	return h.Run(ctx, s.argv(args)...)
}

// runScriptInput is runScript with stdin.
func runScriptInput(ctx context.Context, h Host, stdin []byte, s script, args ...string) ([]byte, error) {
	return h.RunInput(ctx, stdin, s.argv(args)...)
}

// exitStatus is the exit status of the remote command that failed with
// err, or -1 when err is not a command's non-zero exit (a lost connection,
// a timeout).
func exitStatus(err error) int {
	var exit interface{ ExitStatus() int }
	if errors.As(err, &exit) {
		return exit.ExitStatus()
	}
	return -1
}

// readOnlyScripts change nothing; a dry run runs them for real.
var readOnlyScripts = []script{scriptFacts, scriptPreflight, scriptListRuns, scriptJournal, scriptScan}

// isReadOnlyScript reports whether argv runs one of the read-only scripts,
// matched by its exact text.
func isReadOnlyScript(argv []string) bool {
	if len(argv) < 3 || argv[0] != "sh" || argv[1] != "-c" {
		return false
	}
	return slices.ContainsFunc(readOnlyScripts, func(s script) bool { return s.body == argv[2] })
}

// scriptFacts prints what a run needs to know of a host, one key=value a
// line.
var scriptFacts = script{name: "facts", body: "\nfp=" + factsBody}

// factsBody prints the facts, each line prefixed with $fp. Shell builtins
// read what they can (the uid, the boot id): every command a script runs is
// a fork and exec, about a millisecond on a small host, and these scripts
// run on every host of a run.
const factsBody = `
[ -d /run/systemd/system ] && echo "${fp}systemd=yes" || echo "${fp}systemd=no"
[ -d /var/log/journal ] && echo "${fp}journal=persistent" || echo "${fp}journal=volatile"
fu=
while read -r fk fr fe _; do [ "$fk" = Uid: ] && fu=$fe && break; done < /proc/self/status
echo "${fp}uid=$fu"
fv=$(systemctl --version 2>/dev/null) || fv=
case $fv in "systemd "[0-9]*) fv=${fv#systemd }; fv=${fv%%[!0-9]*} ;; *) fv= ;; esac
echo "${fp}systemd_version=$fv"
{ read -r fb < /proc/sys/kernel/random/boot_id; } 2>/dev/null || fb=
echo "${fp}boot_id=$fb"
`

// scriptPreflight reads, in one session, everything preflight needs: the
// facts, each unit's properties, each target file's state, and the host's
// runs. One session instead of about ten: each costs a round trip and a
// login shell on the host, and in a busy batch the shells queue for CPU.
//
// Arguments: $1 the runs directory, $2 the number of units, the units, then
// one "content|-" and path pair per target ("content": also send the file,
// base64, to diff it). Every answer line starts with its kind and, for
// units and files, their index: the inventory's paths never come back as
// text to be parsed.
var scriptPreflight = script{name: "preflight", body: `
export LC_ALL=C
runs=$1 n=$2
shift 2
fp='fact '
` + factsBody + `
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
`}

var scriptListRuns = script{name: "list-runs", body: `
[ -d "$1" ] || exit 0
ls -1 -- "$1"
`}

// scriptBackup backs up files, given as triples: the file, its backup path
// and its sha256. Each copy lands by hard link, which fails if the backup
// exists: a backup is never overwritten, and never seen half-written. A
// backup already there with the right sha256 (made by the run being
// resumed) is kept; with another, the script refuses. It prints "made" or
// "kept" per file.
var scriptBackup = script{name: "backup", body: `
set -eu
while [ "$#" -ge 3 ]; do
  src=$1 dst=$2 want=$3
  shift 3
  if [ -e "$dst" ] || [ -L "$dst" ]; then
    got=$(sha256sum < "$dst")
    got=${got%% *}
    if [ "$got" != "$want" ]; then echo "backup $dst exists with sha256 $got, not $want: refusing to overwrite it" >&2; exit 3; fi
    echo kept
    continue
  fi
  tmp=$(mktemp -- "${dst%/*}/.fleetfix-bak.XXXXXX")
  trap 'rm -f -- "$tmp"' EXIT
  cp -p -- "$src" "$tmp"
  sync -- "$tmp"
  got=$(sha256sum < "$tmp")
  got=${got%% *}
  if [ "$got" != "$want" ]; then echo "copy of $src has sha256 $got, expected $want" >&2; exit 3; fi
  ln -T -- "$tmp" "$dst"
  rm -f -- "$tmp"
  trap - EXIT
  echo made
done
`}

// scriptRestore puts backup $2 back at $1 after checking it against the
// recorded sha256 $3, atomically (copy beside the target, then rename).
var scriptRestore = script{name: "restore", body: `
set -eu
dst=$1 bak=$2 want=$3
got=$(sha256sum -- "$bak" | cut -d' ' -f1)
if [ "$got" != "$want" ]; then echo "backup $bak has sha256 $got, recorded $want" >&2; exit 3; fi
tmp=$(mktemp -- "$(dirname -- "$dst")/.fleetfix-restore.XXXXXX")
trap 'rm -f -- "$tmp"' EXIT
cp -p -- "$bak" "$tmp"
sync -- "$tmp"
got=$(sha256sum -- "$tmp" | cut -d' ' -f1)
if [ "$got" != "$want" ]; then echo "copy of $bak has sha256 $got, expected $want" >&2; exit 3; fi
mv -f -- "$tmp" "$dst"
trap - EXIT
`}

// scriptHealth makes unit $3 healthy and waits for it, on the host: with $1
// "restart" it restarts the unit first; with "boot" it first lets the boot
// finish (at most $2 seconds). Then, until $5 centiseconds have passed, it
// checks that $4 (host:port, or "") accepts a TCP connection from the host
// itself, that the unit is active, and that the health command (the
// remaining arguments, if any) exits 0. Exit 1 with the last failure on
// stdout: not healthy in time; any other non-zero exit: the restart failed
// (systemctl's words on stderr).
//
// Polling on the host takes one session instead of one per check. It runs
// in bash so that the common wait, a service not listening yet, costs no
// fork: a loopback port is tried by bash's own /dev/tcp (a refused or
// accepted local connect is immediate; other addresses go through timeout),
// the pause is read -t on a pipe nothing writes to, and the time is read
// from /proc/uptime by the shell. Those checks repeat every 5 ms; a check
// that forks (systemctl is-active, the health command) every 20 ms. The unit
// is asked about once its port accepts, and when the time is up, so a failed
// unit is still reported as failed.
var scriptHealth = script{name: "health", shell: "bash", body: `
mode=$1 bootwait=$2 unit=$3 tcp=$4 limit=$5
shift 5
case $mode in
restart) systemctl restart -- "$unit" || exit 3 ;;
boot) timeout "$bootwait" systemctl is-system-running --wait >/dev/null 2>&1 ;;
esac
tick() { read -r u _ < /proc/uptime; now=$(( ${u%.*} * 100 + 1${u#*.} - 100 )); }
tick
end=$((now + limit))
host=${tcp%:*} port=${tcp##*:}
host=${host#[} host=${host%]}
case $host in 127.*|::1|localhost) here=1 ;; *) here= ;; esac
accepts() {
  if [ -n "$here" ]; then
    { exec {c}<>"/dev/tcp/$host/$port"; } 2>/dev/null || return 1
    exec {c}>&-
  else
    timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$host" "$port" 2>/dev/null
  fi
}
exec {nap}<> <(:)
while :; do
  pause=0.02
  if [ -n "$tcp" ] && ! accepts; then
    last="nothing accepts on $tcp"
    [ -z "$here" ] || pause=0.005
  else
    state=$(systemctl is-active -- "$unit")
    if [ "$state" != active ]; then
      last="unit is $state"
    elif [ "$#" -gt 0 ] && ! last=$("$@" 2>&1); then
      last="health command failed: $(printf '%s' "$last" | tail -c 300)"
    else
      exit 0
    fi
  fi
  tick
  if [ "$now" -ge "$end" ]; then
    if [ "$last" = "nothing accepts on $tcp" ]; then
      state=$(systemctl is-active -- "$unit")
      [ "$state" = active ] || last="unit is $state"
    fi
    printf '%s\n' "$last"
    exit 1
  fi
  read -r -t "$pause" -u "$nap"
done
`}

// scriptRemoveDirs removes each directory that exists and is empty, in the
// order given (deepest first); a missing one was never made (a run that
// failed before it) and a non-empty one holds someone else's files.
var scriptRemoveDirs = script{name: "remove-dirs", body: `
for d in "$@"; do
  [ -d "$d" ] || continue
  rmdir --ignore-fail-on-non-empty -- "$d" || exit 1
done
`}

// lockFuncs defines lock_take DIR OWNER, which takes the host's run lock (a
// directory: mkdir is atomic) for OWNER or exits 75 saying who holds it, and
// lock_release DIR OWNER, which removes it if OWNER still holds it. Two
// controllers never change one host at once. Shared by the lock scripts and
// the manifest save, which takes the lock before a run's first save and
// releases it after its last in the same session.
const lockFuncs = `
lock_take() {
  [ -d "${1%/*}" ] || mkdir -p -m 0700 -- "${1%/*}"
  if mkdir -m 0700 -- "$1" 2>/dev/null; then printf '%s\n' "$2" > "$1/owner"; return 0; fi
  echo "another fleetfix run holds $1: $(cat -- "$1/owner" 2>/dev/null); if it is gone, remove $1" >&2
  exit 75
}
lock_release() {
  lo=
  { read -r lo < "$1/owner"; } 2>/dev/null || return 0
  [ "$lo" = "$2" ] || return 0
  rm -rf -- "$1"
}
`

// lockedStatus is the exit status of a script that found the lock held.
const lockedStatus = 75

// scriptLock takes the lock $1 for owner $2.
var scriptLock = script{name: "lock", body: lockFuncs + `lock_take "$1" "$2"
`}

// scriptUnlock releases the lock $1 if owner $2 still holds it.
var scriptUnlock = script{name: "unlock", body: lockFuncs + `lock_release "$1" "$2"
`}

// scriptSaveManifest writes stdin to the manifest $1, atomically (a
// temporary file beside it, fsynced, checked against the sha256 $2, then
// renamed), creating the runs directory if needed. One session: a run saves
// its manifest several times per host, and an SFTP upload costs five round
// trips more. With $3 "lock" it first takes the lock $4 for owner $5 (and
// writes nothing if it cannot); with "unlock" it releases it after.
var scriptSaveManifest = script{name: "save-manifest", body: lockFuncs + `
set -eu
dst=$1 want=$2 dir=${1%/*} op=${3-}
[ "$op" != lock ] || lock_take "$4" "$5"
umask 077
[ -d "$dir" ] || mkdir -p -- "$dir"
tmp=$(mktemp -- "$dst.XXXXXX")
trap 'rm -f -- "$tmp"' EXIT
dd of="$tmp" conv=fsync status=none
got=$(sha256sum < "$tmp")
got=${got%% *}
if [ "$got" != "$want" ]; then echo "manifest arrived with sha256 $got, sent $want" >&2; exit 3; fi
mv -f -- "$tmp" "$dst"
trap - EXIT
sync -- "$dir" 2>/dev/null || :
[ "$op" != unlock ] || lock_release "$4" "$5"
`}

// scriptReload runs daemon-reload, then shows each unit given (for the
// check that the new settings took), each after a line "fleetfix-unit"
// (never a property line: those have a "="). One session for the reload and
// every check.
var scriptReload = script{name: "reload", body: `
systemctl daemon-reload || exit 3
for u in "$@"; do
  echo fleetfix-unit
  systemctl show --no-pager -- "$u" || exit 4
done
`}
