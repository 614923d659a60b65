package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/fleetfix/fleetfix/fleet"
	"github.com/fleetfix/fleetfix/plain"
)

// ---- plan screen -------------------------------------------------------

// planGroup is the hosts whose plan is the same: the same changes (or the
// same outcome), shown once.
type planGroup struct {
	hosts []string
	first *Host
}

// planGroups groups the hosts by their plan, in the order first seen.
func (m Model) planGroups() []planGroup {
	var out []planGroup
	at := map[string]int{}
	for i := range m.run.Hosts {
		h := &m.run.Hosts[i]
		k := planKey(h)
		g, ok := at[k]
		if !ok {
			g = len(out)
			at[k] = g
			out = append(out, planGroup{first: h})
		}
		out[g].hosts = append(out[g].hosts, h.Name)
	}
	return out
}

// planKey identifies a host's plan: two hosts with the same key have the
// same services and changes, byte for byte. A failed plan is the host's
// own.
func planKey(h *Host) string {
	if h.PlanError != "" {
		return "failed " + h.Name
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%t %q %q|", h.Planned, h.Resume, h.Units)
	for _, c := range h.Changes {
		fmt.Fprintf(&b, "%s %t %s %s %s %s %s %s %q|", c.Path, c.Existed, c.OldSHA256, c.NewSHA256, c.OldMode, c.NewMode, c.OldOwner, c.NewOwner, c.Diff)
	}
	return b.String()
}

// nameList is names joined to fit w cells: "h1, h2, h3", or "h1, h2 +478
// more".
func nameList(names []string, w int) string {
	s := strings.Join(names, ", ")
	if ansi.StringWidth(s) <= w {
		return s
	}
	for n := len(names) - 1; n > 0; n-- {
		s = strings.Join(names[:n], ", ") + fmt.Sprintf(" +%d more", len(names)-n)
		if ansi.StringWidth(s) <= w {
			return s
		}
	}
	return fmt.Sprintf("%d hosts", len(names))
}

func (m Model) planParts() parts {
	files, changed, idle, failed := 0, 0, 0, []string{}
	for _, h := range m.run.Hosts {
		files += len(h.Changes)
		switch {
		case h.PlanError != "":
			failed = append(failed, h.Name)
		case len(h.Changes) > 0:
			changed++
		case h.Planned && h.Resume == "":
			idle++
		}
	}
	sum := fmt.Sprintf("PLAN · nothing has changed yet · %d file change(s) on %d host(s), %d unchanged", files, changed, idle)
	out := []string{m.st.title.Render(m.cfg.Title), m.st.bold.Render(sum)}
	if l := m.cfg.Policy.Line; l != "" {
		out = append(out, strings.Split(ansi.Wordwrap("policy: "+l, m.width, " "), "\n")...)
	}
	out = append(out, strings.Split(m.st.faint.Render(ansi.Wordwrap("each host: "+m.stepsArrow(), m.width, " ")), "\n")...)
	out = append(out, "")
	body := m.planBatches()
	for _, g := range m.planGroups() {
		body = append(body, m.planGroupLines(g)...)
	}
	var bottom []string
	if m.flash != "" {
		bottom = append(bottom, m.st.warn.Render(m.flash))
	}
	q := "Start the rollout?"
	if len(failed) > 0 {
		// The warning sits right above the question, never scrolled away.
		warn := fmt.Sprintf("✗ %d host(s) failed to plan: ", len(failed))
		bottom = append(bottom, m.st.failed.Render(warn+nameList(failed, m.width-ansi.StringWidth(warn))))
		q = "Start anyway?"
	}
	keys := " enter/y start · q quit · ↑↓ pgup/pgdn scroll · ? help"
	if m.st.noColor {
		bottom = append(bottom, q+keys)
	} else {
		bottom = append(bottom, m.st.banner.Render(q)+keys)
	}
	return parts{top: out, body: body, bottom: bottom, indicator: true}
}

// planBatches are the run's batches, each with its hosts, as the run will
// take them.
func (m Model) planBatches() []string {
	out := []string{m.st.header.Render(rule("batches", m.width))}
	var names []string
	batch := -2
	flush := func() {
		if len(names) == 0 {
			return
		}
		label := fit(batchName(batch), 9)
		for i, l := range strings.Split(ansi.Wordwrap(strings.Join(names, ", "), max(m.width-9, 10), " "), "\n") {
			if i > 0 {
				label = fit("", 9)
			}
			out = append(out, label+l)
		}
		names = nil
	}
	for i := range m.run.Hosts {
		h := &m.run.Hosts[i]
		if h.Batch != batch {
			flush()
			batch = h.Batch
		}
		n := h.Name
		switch {
		case h.PlanError != "":
			n += " (plan failed)"
		case len(h.Changes) == 0 && h.Planned && h.Resume == "":
			n += " (unchanged)"
		}
		names = append(names, n)
	}
	flush()
	return out
}

// planGroupLines are one group: its hosts and what its plan is, once.
func (m Model) planGroupLines(g planGroup) []string {
	h := g.first
	what := fmt.Sprintf("%d file(s) to change", len(h.Changes))
	switch {
	case h.PlanError != "":
		what = "plan failed"
	case len(h.Changes) == 0 && h.Planned && h.Resume != "":
		what = "resumes an unfinished run"
	case len(h.Changes) == 0 && h.Planned:
		what = "already at the target"
	case len(h.Changes) == 0:
		what = "no plan"
	}
	suffix := ": " + what
	names := nameList(g.hosts, m.width-8-ansi.StringWidth(suffix))
	head := rule(names+suffix, m.width)
	if h.PlanError != "" {
		head = m.st.failed.Render(head)
	} else {
		head = m.st.header.Render(head)
	}
	out := []string{head}
	if len(h.Units) > 0 {
		out = append(out, m.unitLines(h, "  ")...)
	}
	if len(h.Changes) == 0 && h.Planned && h.Resume == "" {
		return out
	}
	return append(out, m.changeLines(h, "  ")...)
}

// unitLines name the host's services, wrapped to the width.
func (m Model) unitLines(h *Host, indent string) []string {
	var out []string
	for _, l := range strings.Split(ansi.Wordwrap("services: "+strings.ReplaceAll(plain.Units(h.Units), ",", ", "), max(m.width-len(indent), 10), " "), "\n") {
		out = append(out, indent+m.st.faint.Render(l))
	}
	return out
}

// stepsArrow is the steps a host with changes runs after the checks every
// host runs: "backup → push → ...".
func (m Model) stepsArrow() string {
	var s []string
	for _, st := range m.run.Steps[fleet.FirstAct(m.run.Steps):] {
		s = append(s, string(st))
	}
	return strings.Join(s, " → ")
}

// ---- help screen -------------------------------------------------------

func (m Model) helpParts() parts {
	hm := m.help
	hm.Styles = m.st.help()
	hm.SetWidth(m.width)
	out := []string{m.st.title.Render(m.cfg.Title), "", m.st.bold.Render("KEYS"), ""}
	body := strings.Split(hm.FullHelpView(m.keys.runHelp(m.paused, false).full), "\n")
	body = append(body, "",
		m.st.bold.Render("WHAT THEY DO"),
		"enter/y  on the plan: start the rollout; q there quits, nothing changed",
		"p        pause: hosts not yet started wait, hosts in flight go on",
		"a        abort (asks): no new host starts; in-flight hosts stop at next step",
		"ctrl+c   abort at once; again: stop now (cancels the step); a third: leave",
		"r        roll back the selected host (asks): restore backups, reload, restart",
		"enter    the selected host in full: error, changes, stop timings, whole log",
		"t        stop times before → after the fix, per host and unit, on one scale",
		"/        filter the hosts by name (enter keeps it, esc clears it)",
		"e        failed hosts only (failed, cancelled, rollback failed)",
		"s        sort the hosts by stop time, longest first",
		"w        follow the host that started last; ↑↓ stop following",
		"q        quit; while the run goes on (asks) it is aborted gracefully first",
		"",
		m.st.faint.Render("NO_COLOR=1: no colors. --plain or -o json: no TUI, plain or JSON lines."),
	)
	return parts{top: out, body: body, bottom: []string{m.st.faint.Render("esc/?/q: back · ↑↓ scroll")}, indicator: true}
}
