package remote

import "syscall"

// childProcAttr makes the kernel kill a test sshd if the test binary dies
// without cleaning up (e.g. go test -timeout), so none is left listening.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
