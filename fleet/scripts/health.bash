# Makes a unit healthy and waits for it, on the host: with mode "restart" it
# restarts the unit first; with "boot" it first lets the boot finish (at
# most bootwait seconds). Then, until limit centiseconds have passed, it
# checks that host:port accepts a TCP connection from the host itself, that
# the unit is active, and that the health command exits 0.
#
# Polling on the host takes one session instead of one per check. It runs in
# bash so that the common wait, a service not listening yet, costs no fork:
# a loopback port is tried by bash's own /dev/tcp (a refused or accepted
# local connect is immediate; other addresses go through timeout), the pause
# is read -t on a pipe nothing writes to, and the time is read from
# /proc/uptime by the shell. Those checks repeat every 5 ms; a check that
# forks (systemctl is-active, the health command) every 20 ms. The unit is
# asked about once its port accepts, and when the time is up, so a failed
# unit is still reported as failed.
#
# Parameters: $1 mode ("restart", "boot", or "" and "started": only wait), $2 bootwait (seconds), $3
# the unit, $4 host:port (or "": no TCP check), $5 limit (centiseconds),
# then the health command and its arguments, if any.
# Output: on exit 1, the last failure ("unit failed (exit 1)" for a unit
# that is not active: systemd's account of its main process).
# Exit status: 0 healthy; 1 not healthy in time; any other non-zero: the
# restart failed (systemctl's words on stderr).

mode=$1 bootwait=$2 unit=$3 tcp=$4 limit=$5
shift 5
# reset-failed first: a build that failed to start, restarted by
# Restart=on-failure, hits the unit's start limit, and from systemd 254 on
# (measured on 257; 252 let it pass) the limit outlives a daemon-reload and
# refuses the restart of the build put back ("Start request repeated too
# quickly"). reset-failed clears it.
case $mode in
restart) systemctl reset-failed -- "$unit" 2>/dev/null; systemctl restart -- "$unit" || exit 3 ;;
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
# why says why a unit is not active, from systemd's record of its main
# process: "unit failed (exit 1)", "unit failed (signal 9), restarting" (a
# Restart= wait), or else "unit is STATE".
why() {
  local k v state= sub= code= status= result= d
  while IFS='=' read -r k v; do
    case $k in
    ActiveState) state=$v ;; SubState) sub=$v ;; ExecMainCode) code=$v ;;
    ExecMainStatus) status=$v ;; Result) result=$v ;;
    esac
  done < <(systemctl show -p ActiveState,SubState,ExecMainCode,ExecMainStatus,Result -- "$unit")
  if [ "$state" != failed ] && [ "$sub" != auto-restart ]; then
    last="unit is $state"
    return
  fi
  case $code in 1) d="exit $status" ;; 2 | 3) d="signal $status" ;; *) d=$result ;; esac
  last="unit failed ($d)"
  [ "$sub" != auto-restart ] || last="$last, restarting"
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
      [ "$state" = active ] || why
    elif [ "${last#unit is }" != "$last" ]; then
      why
    fi
    printf '%s\n' "$last"
    exit 1
  fi
  read -r -t "$pause" -u "$nap"
done
