//go:build !linux

package remote

import "syscall"

func childProcAttr() *syscall.SysProcAttr { return nil }
