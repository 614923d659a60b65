# Prints the records of a boot that journal.ParseShutdown reads, filtered on
# the host so that a long boot's journal does not travel: PID 1's stop and
# restart jobs, its unit results and warnings (the "timed out. Killing."
# record has no MESSAGE_ID but PRIORITY=4), the start jobs of the
# shutdown's first units, PID 1's "Activating special unit" and logind's
# shutdown record, then the boot's very last record (whoever wrote it) for
# Shutdown.End. The --lines cap keeps the newest records: the shutdown is
# at the end of the boot. It changes nothing on the host.
#
# Parameters: $1 the boot, as journalctl --boot takes it (default -1, the
# previous boot).
# Output: journalctl -o json lines.
# Exit status: 0; journalctl's when the boot cannot be read (its words on
# stderr: "No such boot ID" and the like for a boot the journal lacks).

b=${1:--1}
f=MESSAGE,MESSAGE_ID,UNIT,JOB_ID,JOB_TYPE,UNIT_RESULT,INVOCATION_ID,CODE_FUNC,_PID,_SOURCE_REALTIME_TIMESTAMP
journalctl --boot="$b" --output=json --output-fields="$f" --lines=20000 --no-pager --quiet \
  _PID=1 JOB_TYPE=stop JOB_TYPE=restart + \
  _PID=1 PRIORITY=4 + \
  _PID=1 MESSAGE_ID=7ad2d189f7e94e70a38c781354912448 MESSAGE_ID=d9b373ed55a64feb8242e02dbe79a49c + \
  _PID=1 JOB_TYPE=start UNIT=shutdown.target UNIT=reboot.target UNIT=poweroff.target UNIT=halt.target UNIT=kexec.target \
    UNIT=exit.target UNIT=systemd-reboot.service UNIT=systemd-poweroff.service UNIT=systemd-halt.service \
    UNIT=systemd-kexec.service UNIT=systemd-exit.service + \
  _PID=1 CODE_FUNC=manager_start_special + \
  _COMM=systemd-logind MESSAGE_ID=98268866d1d54a499c4e98921d93bc40 || exit
journalctl --boot="$b" --output=json --output-fields="$f" --lines=1 --no-pager --quiet
