# Runs daemon-reload, then shows each unit given (for the check that the
# new settings took). One session for the reload and every check.
#
# Parameters: the units.
# Output: for each unit, a line "fleetfix-unit" (never a property line:
# those have a "="), then its properties (systemctl show).
# Exit status: 0; 3 when daemon-reload fails; 4 when systemctl show fails.

systemctl daemon-reload || exit 3
for u in "$@"; do
  echo fleetfix-unit
  systemctl show --no-pager -- "$u" || exit 4
done
