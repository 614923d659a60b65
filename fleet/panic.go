package fleet

import (
	"context"
	"fmt"
	"runtime/debug"
)

// stepPanic is a step that panicked: a bug in fleetfix, turned into the
// step's failure so that the host goes down the failure path like any
// other (undone per on_failure, its lock released, its manifest saved)
// and the other hosts' work, in the same process, goes on.
type stepPanic struct {
	step  Step
	value any
	stack []byte
}

func (p *stepPanic) Error() string {
	return fmt.Sprintf("internal error at %s: %v (a bug in fleetfix: please report it with the -v output)", p.step, p.value)
}

// Detail is the panic's stack, for the verbose log.
func (p *stepPanic) Detail() string { return "panic: " + fmt.Sprint(p.value) + "\n" + string(p.stack) }

// runStep runs step s, a panic in it being its error.
func (hr *hostRun) runStep(ctx context.Context, s step) (msg string, err error) {
	defer func() {
		if v := recover(); v != nil {
			msg, err = "", &stepPanic{step: s.name, value: v, stack: debug.Stack()}
		}
	}()
	return s.run(hr, ctx)
}
