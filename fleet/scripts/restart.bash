# Restarts units in one systemd transaction and bounds the old build's
# stop: systemctl restart --no-block, then for each unit with a bound,
# once its old main process has outlived it, systemctl kill
# --signal=SIGKILL (the restart job goes on to start the new process).
# Then it waits for the restart jobs to finish. Just before the restart it
# counts each unit's connections in flight and prints the host's clock, so
# that the journal of the restart can be read from there.
#
# Parameters: $1 the number of units, then per unit: the unit and its bound
# in centiseconds (0: none, systemd's own TimeoutStopSec applies).
# Output:
#   inflight I N   unit I's established TCP connections before the restart
#   since EPOCH    the host's realtime clock before the restart (s.µs)
#   killed I CS    unit I's old main process outlived its bound CS: SIGKILLed
#   stopped I CS   unit I's old main process was gone CS after the restart
# Exit status: 0 the restart jobs finished; 3 systemctl restart failed, 4
# systemctl kill failed (systemctl's words on stderr).

n=$1
shift
units=() bounds=()
for ((i = 0; i < n; i++)); do
  units+=("$1") bounds+=("$2")
  shift 2
done

#include lib/inflight.sh
inflight "${units[@]}"
pids=()
for u in "${units[@]}"; do
  pids+=("$(systemctl show -p MainPID --value -- "$u")")
done
tick() { read -r u _ < /proc/uptime; now=$(( ${u%.*} * 100 + 1${u#*.} - 100 )); }
printf 'since %s\n' "$(date +%s.%6N)"
tick
start=$now
systemctl restart --no-block -- "${units[@]}" || exit 3
exec {nap}<> <(:)
# Watch each old main process until it is gone, or SIGKILLed once it has
# been stopping for longer than its bound: counted from when its unit was
# first seen deactivating, since in one transaction a unit's stop may wait
# for another's. Killing only a unit still stopping never kills a new
# process that started meanwhile.
left=$n stopping=()
while [ "$left" -gt 0 ]; do
  tick
  for ((i = 0; i < n; i++)); do
    p=${pids[i]}
    [ -n "$p" ] || continue
    if [ "$p" = 0 ] || [ ! -e "/proc/$p" ]; then
      printf 'stopped %d %d\n' "$i" $((now - start))
    elif [ "${bounds[i]}" -gt 0 ]; then
      [ "$(systemctl show -p ActiveState --value -- "${units[i]}")" = deactivating ] || continue
      : "${stopping[i]:=$now}"
      [ $((now - stopping[i])) -ge "${bounds[i]}" ] || continue
      systemctl kill --signal=SIGKILL -- "${units[i]}" || exit 4
      printf 'killed %d %d\n' "$i" $((now - stopping[i]))
    else
      continue
    fi
    pids[i]= left=$((left - 1))
  done
  [ "$left" -gt 0 ] && read -r -t 0.02 -u "$nap"
done
while [ -n "$(systemctl list-jobs --no-legend -- "${units[@]}" 2>/dev/null)" ]; do
  read -r -t 0.02 -u "$nap"
done
exit 0
