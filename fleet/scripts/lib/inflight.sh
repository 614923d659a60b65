# unitpids sets map to "PID:I ..." for the processes of each unit I given
# (its control group's cgroup.procs) and nunits to the number of units.
unitpids() {
  map= nunits=0
  for u in "$@"; do
    cg=$(systemctl show -p ControlGroup --value -- "$u" 2>/dev/null)
    if [ -n "$cg" ]; then
      # cgroup2 (Debian 12, Ubuntu 22.04+), hybrid, then v1's named tree.
      for f in "/sys/fs/cgroup$cg/cgroup.procs" "/sys/fs/cgroup/unified$cg/cgroup.procs" "/sys/fs/cgroup/systemd$cg/cgroup.procs"; do
        [ -r "$f" ] || continue
        while read -r p; do map="$map $p:$nunits"; done < "$f"
        break
      done
    fi
    nunits=$((nunits+1))
  done
}

# inflight prints, for each unit given, "inflight I N": N established TCP
# connections held by the processes of unit I's control group (ss -tnpH,
# matched on the PIDs of its cgroup.procs; a socket shared by two of the
# unit's processes counts once). It prints nothing without ss: not counted
# is not zero.
inflight() {
  command -v ss >/dev/null 2>&1 || return 0
  unitpids "$@"
  ss -tnpH state established 2>/dev/null | awk -v map="$map" -v n="$nunits" '
    BEGIN {
      k = split(map, a, " ")
      for (j = 1; j <= k; j++) { split(a[j], pu, ":"); of[pu[1]] = of[pu[1]] " " pu[2] }
    }
    {
      split("", seen)
      s = $0
      while (match(s, /pid=[0-9]+/)) {
        p = substr(s, RSTART + 4, RLENGTH - 4)
        s = substr(s, RSTART + RLENGTH)
        m = split(of[p], us, " ")
        for (j = 1; j <= m; j++) if (!(us[j] in seen)) { seen[us[j]] = 1; c[us[j]]++ }
      }
    }
    END { for (j = 0; j < n; j++) printf "inflight %d %d\n", j, c[j] + 0 }'
}

# listening prints, for each TCP socket a unit given listens on,
# "listen I ADDRESS:PORT" (ss -ltnpH, matched on its cgroup's PIDs as
# inflight does). It prints nothing without ss.
listening() {
  command -v ss >/dev/null 2>&1 || return 0
  unitpids "$@"
  ss -ltnpH 2>/dev/null | awk -v map="$map" '
    BEGIN {
      k = split(map, a, " ")
      for (j = 1; j <= k; j++) { split(a[j], pu, ":"); of[pu[1]] = of[pu[1]] " " pu[2] }
    }
    {
      s = $0
      while (match(s, /pid=[0-9]+/)) {
        p = substr(s, RSTART + 4, RLENGTH - 4)
        s = substr(s, RSTART + RLENGTH)
        m = split(of[p], us, " ")
        for (j = 1; j <= m; j++) if (!((us[j], $4) in seen)) { seen[us[j], $4] = 1; printf "listen %d %s\n", us[j], $4 }
      }
    }'
}
