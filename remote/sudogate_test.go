package remote

import (
	"bytes"
	"testing"
)

func TestSudoGate(t *testing.T) {
	p, r := sudoPrompt+"\n", sudoReady+"\n"
	tests := []struct {
		name    string
		writes  []string // stderr as it arrives
		want    string   // "send", "refuse" or "" (undecided)
		wantErr string   // stderr passed on
	}{
		{"password taken", []string{p, r, "cmd err\n"}, "send", "cmd err\n"},
		{"nopasswd: no prompt", []string{r}, "send", ""},
		{"lecture first", []string{"We trust you have received the usual lecture\n", p, r}, "send", "We trust you have received the usual lecture\n"},
		{"split writes", []string{sudoPrompt[:4], sudoPrompt[4:] + "\n" + sudoReady[:3], sudoReady[3:] + "\n"}, "send", ""},
		{"second prompt", []string{p, "Sorry, try again.\n", p}, "refuse", "Sorry, try again.\n"},
		{"insult, then the prompt again", []string{p, "You type like a monkey.\n", p}, "refuse", "You type like a monkey.\n"},
		{"a PAM prompt of its own", []string{"Verification code: Sorry, try again.\n"}, "refuse", "Verification code: Sorry, try again.\n"},
		{"one prompt, waiting", []string{p}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			g := newSudoGate(&out)
			for _, w := range tt.writes {
				if n, err := g.Write([]byte(w)); n != len(w) || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			g.flush()
			got := ""
			select {
			case <-g.ready:
				got = "send"
			case <-g.refused:
				got = "refuse"
			default:
			}
			if got != tt.want || out.String() != tt.wantErr {
				t.Errorf("gate %q, stderr %q; want %q, %q", got, out.String(), tt.want, tt.wantErr)
			}
		})
	}
}
