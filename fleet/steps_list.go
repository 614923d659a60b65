package fleet

// Steps lists, in order, the steps a rollout with o runs on each host: the
// list the TUI's columns and every report follow.
func Steps(o Options) []Step {
	steps := []Step{StepConnect, StepPreflight, StepBackup, StepPush, StepDropIn, StepReload, StepRestart}
	if o.Inventory != nil && o.Inventory.Rollout.Reboot && !o.NoReboot {
		steps = append(steps, StepReboot, StepJournal)
	}
	for i, s := range steps {
		if s == o.LastStep {
			return steps[:i+1]
		}
	}
	return steps
}
