package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"time"
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

// readFleetfixJSON parses `fleetfix rollout -o json` output (schema 1).
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
		var line struct {
			Type       string    `json:"type"`
			Time       time.Time `json:"time"`
			Host       string    `json:"host"`
			OK         bool      `json:"ok"`
			DurationMS float64   `json:"duration_ms"`
			Hosts      []struct {
				Host   string `json:"host"`
				Status string `json:"status"`
				Reboot *struct {
					BackMS    float64 `json:"back_ms"`
					NoticedMS float64 `json:"noticed_ms"`
				} `json:"reboot"`
			} `json:"hosts"`
		}
		if json.Unmarshal(sc.Bytes(), &line) != nil {
			continue
		}
		switch line.Type {
		case "event":
			if line.Host == "" {
				continue
			}
			h := host(line.Host)
			if h.First.IsZero() || line.Time.Before(h.First) {
				h.First = line.Time
			}
			if line.Time.After(h.Last) {
				h.Last = line.Time
			}
		case "summary":
			run.OK, run.DurationMS = line.OK, line.DurationMS
			for _, s := range line.Hosts {
				h := host(s.Host)
				h.Status = s.Status
				if s.Reboot != nil {
					h.NoticedMS, h.BackMS = s.Reboot.NoticedMS, s.Reboot.BackMS
				}
			}
		}
	}
	return run, sc.Err()
}

// ffScan is `fleetfix scan -o json`'s single line.
type ffScan struct {
	DurationMS float64 `json:"duration_ms"`
	Hosts      []struct {
		Host       string  `json:"host"`
		ShutdownMS float64 `json:"shutdown_ms"`
		Note       string  `json:"note"`
		Error      string  `json:"error"`
		Units      []struct {
			Unit   string `json:"unit"`
			Killed bool   `json:"killed"`
		} `json:"units"`
	} `json:"hosts"`
}

func readScanJSON(path string) (*ffScan, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s ffScan
	for _, line := range bytes.Split(b, []byte("\n")) {
		if bytes.Contains(line, []byte(`"type":"scan"`)) || bytes.Contains(line, []byte(`"type": "scan"`)) {
			return &s, json.Unmarshal(line, &s)
		}
	}
	return &s, json.Unmarshal(bytes.TrimSpace(b), &s)
}
