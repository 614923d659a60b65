# Included by guard-remove.sh and guard-restore.sh.
#
# guard_remove NAME stops and disables the guard NAME (a run's dead-man
# switch: NAME.timer and NAME.service in /etc/systemd/system, its script
# /var/lib/fleetfix/NAME.sh) and removes its files, then daemon-reloads;
# it prints "removed" when there was anything to remove. A guard running
# its restore is not stopped: only its timer is.
guard_remove() {
  gu=/etc/systemd/system/$1 gw=/etc/systemd/system/timers.target.wants/$1.timer
  [ -e "$gu.timer" ] || [ -e "$gu.service" ] || [ -e "/var/lib/fleetfix/$1.sh" ] || [ -L "$gw" ] || return 0
  systemctl stop --quiet -- "$1.timer" 2>/dev/null
  systemctl disable --quiet -- "$1.timer" 2>/dev/null
  rm -f -- "$gw" "$gu.timer" "$gu.service" "/var/lib/fleetfix/$1.sh" || return 1
  systemctl daemon-reload || return 1
  echo removed
}
