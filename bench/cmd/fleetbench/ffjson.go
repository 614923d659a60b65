package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"time"

	"github.com/fleetfix/fleetfix/jsonl"
)

// ffHost is what fleetbench reads of fleetfix's JSON lines for one host.
type ffHost struct {
	Host      string
	Status    string
	First     time.Time // its first event (connect start)
	Last      time.Time // its last event (run done / skip / fail)
	NoticedMS float64   // summary hosts[].reboot.noticed_ms (sshd Started -> new boot id read)
	BackMS    float64
}

type ffRun struct {
	OK         bool
	DurationMS float64
	Hosts      map[string]*ffHost
}

// readFleetfixJSON parses `fleetfix rollout -o json` output (package jsonl);
// a line that is not one of its lines is skipped.
func readFleetfixJSON(path string) (*ffRun, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	run := &ffRun{Hosts: map[string]*ffHost{}}
	host := func(name string) *ffHost {
		h := run.Hosts[name]
		if h == nil {
			h = &ffHost{Host: name}
			run.Hosts[name] = h
		}
		return h
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var head jsonl.Head
		if json.Unmarshal(sc.Bytes(), &head) != nil {
			continue
		}
		switch head.Type {
		case jsonl.TypeEvent:
			var e jsonl.Event
			if json.Unmarshal(sc.Bytes(), &e) != nil || e.Host == "" {
				continue
			}
			h := host(e.Host)
			if h.First.IsZero() || e.Time.Before(h.First) {
				h.First = e.Time
			}
			if e.Time.After(h.Last) {
				h.Last = e.Time
			}
		case jsonl.TypeSummary:
			var s jsonl.Summary
			if json.Unmarshal(sc.Bytes(), &s) != nil {
				continue
			}
			run.OK, run.DurationMS = s.OK, s.DurationMS
			for _, sh := range s.Hosts {
				h := host(sh.Host)
				h.Status = sh.Status
				if sh.Reboot != nil {
					h.NoticedMS, h.BackMS = sh.Reboot.NoticedMS, sh.Reboot.BackMS
				}
			}
		}
	}
	return run, sc.Err()
}

// readScanJSON parses `fleetfix scan -o json`'s single line.
func readScanJSON(path string) (*jsonl.Scan, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s jsonl.Scan
	for _, line := range bytes.Split(b, []byte("\n")) {
		var head jsonl.Head
		if json.Unmarshal(line, &head) == nil && head.Type == jsonl.TypeScan {
			return &s, json.Unmarshal(line, &s)
		}
	}
	return &s, json.Unmarshal(bytes.TrimSpace(b), &s)
}
