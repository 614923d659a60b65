package report

import (
	"encoding/xml"
	"fmt"
	"strings"

	"github.com/fleetfix/fleetfix/jsonl"
)

// JUnit XML, as CI systems read it: a suite per host, a case per unit.
type (
	junitSuites struct {
		XMLName  xml.Name     `xml:"testsuites"`
		Name     string       `xml:"name,attr"`
		Tests    int          `xml:"tests,attr"`
		Failures int          `xml:"failures,attr"`
		Skipped  int          `xml:"skipped,attr"`
		Time     string       `xml:"time,attr"`
		Suites   []junitSuite `xml:"testsuite"`
	}
	junitSuite struct {
		Name      string      `xml:"name,attr"`
		Tests     int         `xml:"tests,attr"`
		Failures  int         `xml:"failures,attr"`
		Skipped   int         `xml:"skipped,attr"`
		Time      string      `xml:"time,attr"`
		Timestamp string      `xml:"timestamp,attr,omitempty"`
		Cases     []junitCase `xml:"testcase"`
	}
	junitCase struct {
		Name      string        `xml:"name,attr"`
		ClassName string        `xml:"classname,attr"`
		Time      string        `xml:"time,attr"`
		Failure   *junitFailure `xml:"failure"`
		Skipped   *junitSkipped `xml:"skipped"`
		SystemOut string        `xml:"system-out,omitempty"`
	}
	junitFailure struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Text    string `xml:",chardata"`
	}
	junitSkipped struct {
		Message string `xml:"message,attr"`
	}
)

// JUnit is the run s as JUnit XML: one test suite per host, one test case
// per host and unit, failed when the unit was SIGKILLed at the reboot (and
// the policy does not allow it), stopped for longer than its max_stop, or
// its host failed a step. A host that never ran has its cases skipped.
func JUnit(s jsonl.Summary) ([]byte, error) {
	out := junitSuites{Name: "fleetfix " + title(s), Time: seconds(s.DurationMS)}
	byHost := map[string]int{}
	hosts := map[string]jsonl.Host{}
	for _, h := range s.Hosts {
		hosts[h.Host] = h
	}
	for _, r := range unitRows(s) {
		i, ok := byHost[r.Host]
		if !ok {
			i = len(out.Suites)
			byHost[r.Host] = i
			out.Suites = append(out.Suites, junitSuite{Name: r.Host, Time: seconds(hosts[r.Host].TimeMS), Timestamp: timestamp(s)})
		}
		c := junitCase{Name: orName(r.Timing.Unit), ClassName: "fleetfix." + r.Host, Time: "0",
			SystemOut: fmt.Sprintf("before %s → after %s", stopNote(r.Timing.Before, r.Timing.BeforeNote), stopNote(r.Timing.After, r.Timing.AfterNote))}
		if a := r.Timing.After; a != nil {
			c.Time = seconds(jsonl.MS(a.Duration))
		}
		st := &out.Suites[i]
		switch {
		case r.Failure != "":
			c.Failure = &junitFailure{Message: r.Failure, Type: failureType(r, hosts[r.Host]), Text: c.SystemOut}
			if strings.HasPrefix(c.Failure.Type, "step-") {
				c.Failure.Text = hosts[r.Host].Error
			}
			st.Failures++
			out.Failures++
		case r.Skipped != "":
			c.Skipped = &junitSkipped{Message: r.Skipped}
			st.Skipped++
			out.Skipped++
		}
		st.Tests++
		out.Tests++
		st.Cases = append(st.Cases, c)
	}
	b, err := xml.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("junit: %w", err)
	}
	return append(append([]byte(xml.Header), b...), '\n'), nil
}

// failureType classes a failure for CI: the host's failed step, or what
// the unit's stop showed.
func failureType(r unitRow, h jsonl.Host) string {
	switch {
	case strings.HasPrefix(r.Failure, "SIGKILLed"):
		return "sigkill"
	case strings.HasPrefix(r.Failure, "stop "):
		return "max-stop"
	}
	return "step-" + stepOf(h)
}

func orName(unit string) string {
	if unit == "" {
		return "run"
	}
	return unit
}

func seconds(msv float64) string { return fmt.Sprintf("%.3f", msv/1000) }

func timestamp(s jsonl.Summary) string {
	if s.Started.IsZero() {
		return ""
	}
	return s.Started.UTC().Format("2006-01-02T15:04:05")
}
