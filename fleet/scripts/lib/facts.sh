# Included by facts.sh and preflight.sh: prints the host's facts, one
# key=value a line, each prefixed with $fp: systemd=yes|no,
# journal=persistent|volatile, uid=N, systemd_version=N and boot_id=ID (both
# empty when unknown).
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
