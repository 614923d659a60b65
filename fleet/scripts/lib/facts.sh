# Included by facts.sh and preflight.sh: prints the host's facts, one
# key=value a line, each prefixed with $fp: systemd=yes|no,
# journal=persistent|volatile, uid=N, systemd_version=N and boot_id=ID (both
# empty when unknown), sshd_unit=UNIT (the first active of ssh.socket,
# ssh.service, sshd.service: what starts sshd; empty when none is), and
# logind's inhibitors=JSON and sessions=JSON (busctl --json=short answers of
# ListInhibitors and ListSessions; absent when logind does not answer).
#
# Shell builtins read what they can (the uid, the boot id): every command a
# script runs is a fork and exec, about a millisecond on a small host, and
# these scripts run on every host of a run.
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
fs=
for fn in ssh.socket ssh.service sshd.service; do
  systemctl -q is-active "$fn" 2>/dev/null && fs=$fn && break
done
echo "${fp}sshd_unit=$fs"
if command -v busctl >/dev/null 2>&1; then
  for fm in Inhibitors Sessions; do
    fo=$(busctl call --json=short org.freedesktop.login1 /org/freedesktop/login1 \
      org.freedesktop.login1.Manager "List$fm" 2>/dev/null) || continue
    case $fm in Inhibitors) echo "${fp}inhibitors=$fo" ;; *) echo "${fp}sessions=$fo" ;; esac
  done
fi
