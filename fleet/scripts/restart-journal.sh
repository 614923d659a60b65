# Prints PID 1's records about the units since a time, for
# journal.ParseRestart: each restart's stop job ("Stopping" JOB_TYPE=stop,
# "Stopped" JOB_TYPE=restart, one JOB_ID), its kill and result records and
# the start that followed. It changes nothing on the host.
#
# Parameters: $1 since, as journalctl --since takes it (@EPOCH), then the
# units.
# Output: journalctl -o json lines of the current boot.
# Exit status: 0; journalctl's when the journal cannot be read.

since=$1
shift
f=MESSAGE,MESSAGE_ID,UNIT,JOB_ID,JOB_TYPE,JOB_RESULT,UNIT_RESULT,INVOCATION_ID,CODE_FUNC,_PID,_SOURCE_REALTIME_TIMESTAMP
# The units become journalctl's matches, in place of the arguments:
# _PID=1 UNIT=a + _PID=1 UNIT=b ...
i=0 n=$#
while [ "$i" -lt "$n" ]; do
  u=$1
  shift
  [ "$i" -eq 0 ] || set -- "$@" +
  set -- "$@" _PID=1 "UNIT=$u"
  i=$((i + 1))
done
journalctl --boot=0 --since="$since" --output=json --output-fields="$f" --no-pager --quiet "$@"
