# Describes the path "$1" in one round trip (Client.Stat, read by
# parseStat): prints "missing", or a "stat MODE USER GROUP SIZE" line
# (stat -L -c '%f %U %G %s') followed, for a regular file, by a
# "sha256 HEX" line. Exits 1, the error on stderr, when it cannot look.
# The path is "$1", never part of the script's text. LC_ALL=C makes stat's
# error text (the only way to tell "missing" from "permission denied")
# predictable; sha256sum reads stdin so that odd file names cannot change
# its output format.
export LC_ALL=C
if ! out=$(stat -L -c '%f %U %G %s' -- "$1" 2>&1); then
	case $out in
	*"No such file or directory"*|*"Not a directory"*) echo missing; exit 0 ;;
	esac
	printf '%s\n' "$out" >&2
	exit 1
fi
printf 'stat %s\n' "$out"
if [ -f "$1" ]; then
	sum=$(sha256sum < "$1") || exit 1
	printf 'sha256 %s\n' "${sum%% *}"
fi
