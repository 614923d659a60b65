# Moves an uploaded file into place as the final step of Client.Upload, in
# one round trip. Arguments:
#
#	$1 src    staged file to copy from ("" when $3 was written directly,
#	          "-" for the command's stdin)
#	$2 stage  staging directory to remove ("" if none)
#	$3 tmp    temporary name next to dst
#	$4 dst    destination
#	$5 dir    directory of dst
#	$6 mode   octal chmod mode
#	$7 owner  chown owner ("" to leave it)
#	$8 want   expected sha256 hex
#
# Exits 1, "fleetfix: WHY" on stderr, having removed tmp and the staging
# directory. The checksum is taken from the file about to be renamed, so
# what is verified is what lands at dst. chown precedes chmod because chown
# clears setuid and setgid. The rename replaces dst's directory entry
# instead of writing into the old file, so a running binary at dst keeps
# its old inode (no ETXTBSY) and readers never see a partial file.
src=$1 stage=$2 tmp=$3 dst=$4 dir=$5 mode=$6 owner=$7 want=$8
fail() {
	rm -f -- "$tmp"
	[ -z "$stage" ] || rm -rf -- "$stage"
	printf 'fleetfix: %s\n' "$1" >&2
	exit 1
}
if [ -n "$src" ]; then
	(umask 077 && set -C && cat -- "$src" > "$tmp") || fail "cannot copy staged file to $tmp"
	[ -z "$stage" ] || rm -rf -- "$stage"
	stage=
fi
got=$(sha256sum < "$tmp") || fail "cannot checksum $tmp"
got=${got%% *}
[ "$got" = "$want" ] || fail "checksum mismatch on host: got $got, want $want"
if [ -n "$owner" ]; then
	chown -- "$owner" "$tmp" || fail "cannot chown $owner $tmp"
fi
chmod -- "$mode" "$tmp" || fail "cannot chmod $mode $tmp"
sync -- "$tmp" 2>/dev/null || sync
if [ -d "$dst" ]; then
	fail "$dst is a directory"
fi
mv -f -- "$tmp" "$dst" || fail "cannot rename $tmp to $dst"
sync -- "$dir" 2>/dev/null || :
