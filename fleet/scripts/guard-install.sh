# Installs a run's guard (the dead-man switch of its reboot): the restore
# script from stdin as /var/lib/fleetfix/NAME.sh, the units NAME.service
# and NAME.timer in /etc/systemd/system, each written beside its place and
# renamed, then daemon-reload and the timer enabled for the next boot. The
# timer is not started (and is stopped if a resumed run's guard runs): its
# OnBootSec counts from the boot it starts in, and in this one that time
# may be long past.
#
# Parameters: $1 the guard's name, $2 its service unit's text, $3 its
# timer's.
# Input: the restore script.
# Output: the sha256 of the script as written.
# Exit status: 0; any other: a command failed (its words on stderr).

set -eu
name=$1 units=/etc/systemd/system dir=/var/lib/fleetfix
# A resumed run's guard may be running in this boot, since the reboot
# before: it must not fire at the reload below.
systemctl stop --quiet -- "$name.timer" 2>/dev/null || :
umask 022
[ -d "$dir" ] || mkdir -p -m 0755 -- "$dir"
tmp=$(mktemp -- "$dir/.$name.XXXXXX")
trap 'rm -f -- "$tmp" "$units/.$name.service" "$units/.$name.timer"' EXIT
dd of="$tmp" conv=fsync status=none
chmod 0700 -- "$tmp"
printf '%s' "$2" > "$units/.$name.service"
printf '%s' "$3" > "$units/.$name.timer"
sync -- "$units/.$name.service" "$units/.$name.timer"
mv -f -- "$tmp" "$dir/$name.sh"
mv -f -- "$units/.$name.service" "$units/$name.service"
mv -f -- "$units/.$name.timer" "$units/$name.timer"
trap - EXIT
systemctl daemon-reload
systemctl enable --quiet -- "$name.timer"
sum=$(sha256sum < "$dir/$name.sh")
printf '%s\n' "${sum%% *}"
