package fleet

import (
	"context"
	"slices"
)

// Remote shell scripts. Each runs as `sh -c SCRIPT NAME ARGS...`: values reach
// the script only as positional parameters, never spliced into its text, so
// no path or unit name can be executed.
type script struct {
	name string
	body string
}

func runScript(ctx context.Context, h Host, s script, args ...string) ([]byte, error) {
	return h.Run(ctx, append([]string{"sh", "-c", s.body, "fleetfix-" + s.name}, args...)...)
}

// readOnlyScripts change nothing; a dry run runs them for real.
var readOnlyScripts = []script{scriptFacts, scriptListRuns, scriptFreeSpace, scriptHealth, scriptLinks, scriptJournal}

// isReadOnlyScript reports whether argv runs one of the read-only scripts,
// matched by its exact text.
func isReadOnlyScript(argv []string) bool {
	if len(argv) < 3 || argv[0] != "sh" || argv[1] != "-c" {
		return false
	}
	return slices.ContainsFunc(readOnlyScripts, func(s script) bool { return s.body == argv[2] })
}

var scriptFacts = script{name: "facts", body: `
[ -d /run/systemd/system ] && echo systemd=yes || echo systemd=no
[ -d /var/log/journal ] && echo journal=persistent || echo journal=volatile
echo uid=$(id -u)
echo systemd_version=$(systemctl --version 2>/dev/null | sed -n '1s/^systemd \([0-9]*\).*/\1/p')
`}

var scriptListRuns = script{name: "list-runs", body: `
[ -d "$1" ] || exit 0
ls -1 -- "$1"
`}

// scriptFreeSpace prints the KiB available on the filesystem of each path
// (or of its nearest existing parent), one line each.
var scriptFreeSpace = script{name: "free-space", body: `
for p in "$@"; do
  while [ ! -e "$p" ]; do p=$(dirname -- "$p"); done
  df -P -k -- "$p" | awk 'NR==2 {print $4}'
done
`}

// scriptBackup copies $1 to the backup path $2 and checks it against sha256
// $3. The copy lands by hard link, which fails if $2 exists: a backup is never
// overwritten, and never seen half-written.
var scriptBackup = script{name: "backup", body: `
set -eu
src=$1 dst=$2 want=$3
tmp=$(mktemp -- "$(dirname -- "$dst")/.fleetfix-bak.XXXXXX")
trap 'rm -f -- "$tmp"' EXIT
cp -p -- "$src" "$tmp"
sync -- "$tmp"
got=$(sha256sum -- "$tmp" | cut -d' ' -f1)
if [ "$got" != "$want" ]; then echo "copy of $src has sha256 $got, expected $want" >&2; exit 3; fi
ln -T -- "$tmp" "$dst"
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

// scriptHealth checks unit $1 is active and, when $2 is host:port, that the
// port accepts a TCP connection from the host itself.
var scriptHealth = script{name: "health", body: `
state=$(systemctl is-active -- "$1")
if [ "$state" != active ]; then echo "unit is $state"; exit 1; fi
[ -n "$2" ] || exit 0
host=${2%:*} port=${2##*:}
host=${host#[} host=${host%]}
if timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$host" "$port" 2>/dev/null; then exit 0; fi
echo "nothing accepts on $2"; exit 1
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

// scriptLinks prints, for each path, "link TARGET" when it is a symbolic
// link and "-" otherwise.
var scriptLinks = script{name: "links", body: `
for p in "$@"; do
  if [ -L "$p" ]; then printf 'link %s\n' "$(readlink -- "$p")"; else echo -; fi
done
`}

// scriptLock takes the host's run lock ($1, a directory: mkdir is atomic)
// for owner $2, or says who holds it. Two controllers never change one host
// at once.
var scriptLock = script{name: "lock", body: `
set -u
mkdir -p -m 0700 -- "$(dirname -- "$1")"
if mkdir -m 0700 -- "$1" 2>/dev/null; then printf '%s\n' "$2" > "$1/owner"; exit 0; fi
echo "another fleetfix run holds $1: $(cat -- "$1/owner" 2>/dev/null); if it is gone, remove $1" >&2
exit 75
`}

// scriptUnlock releases the lock $1 if owner $2 still holds it.
var scriptUnlock = script{name: "unlock", body: `
[ "$(cat -- "$1/owner" 2>/dev/null)" = "$2" ] || exit 0
rm -rf -- "$1"
`}
