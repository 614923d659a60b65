# Writes the login shell's PID to stderr ("fleetfix-pid PID", pidPrefix),
# before every command's "; exec ARGV" (Client.session), so that pidFilter
# learns the command's process group. One line, spliced into the command
# line the login shell runs: pidAnnounce is this line's text.
echo "fleetfix-pid $$" >&2
