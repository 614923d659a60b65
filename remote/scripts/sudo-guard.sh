# The guard sudo runs a command under when it is sent a password (sudo.go
# says why): says it runs (fleetfix-sudo-ready, sudoReady, on stderr),
# reads one line, and execs its arguments only if that line is the marker
# (sudoMarker) that follows the password, i.e. if sudo read exactly the
# password line; else it says so (sudoGuardMsg) and exits 125
# (sudoGuardStatus). One line: sudoGuard is this line's text.
echo 'fleetfix-sudo-ready' >&2; IFS= read -r l || l=; if [ "$l" != 'fleetfix-sudo-stdin-follows' ]; then echo 'fleetfix: sudo did not read the password; command not run' >&2; exit 125; fi; l=; exec "$@"
