package inventory

import (
	"strings"
	"testing"
)

func TestParseAmount(t *testing.T) {
	tests := []struct {
		in      string
		want    Amount
		wantErr bool
	}{
		{in: "0", want: Amount{}},
		{in: "3", want: Amount{N: 3}},
		{in: "25%", want: Amount{N: 25, Percent: true}},
		{in: " 100% ", want: Amount{N: 100, Percent: true}},
		{in: "0%", want: Amount{Percent: true}},
		{in: "150%", wantErr: true},
		{in: "-1", wantErr: true},
		{in: "+1", wantErr: true},
		{in: "%", wantErr: true},
		{in: "", wantErr: true},
		{in: "2.5", wantErr: true},
		{in: "25 %", wantErr: true},
		{in: "ten", wantErr: true},
		{in: "99999999999999999999", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseAmount(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseAmount(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err == nil && strings.TrimSpace(tt.in) != got.String() {
			t.Errorf("ParseAmount(%q).String() = %q", tt.in, got.String())
		}
	}
}

func TestAmountOf(t *testing.T) {
	tests := []struct {
		a     Amount
		total int
		want  int
	}{
		{Amount{N: 3}, 10, 3},
		{Amount{N: 3}, 2, 2}, // never more than there are
		{Amount{N: 0}, 10, 0},
		{Amount{N: 25, Percent: true}, 10, 3}, // 2.5 rounds up
		{Amount{N: 25, Percent: true}, 8, 2},
		{Amount{N: 1, Percent: true}, 3, 1}, // any non-zero percentage is at least one host
		{Amount{N: 100, Percent: true}, 7, 7},
		{Amount{N: 0, Percent: true}, 7, 0},
		{Amount{N: 50, Percent: true}, 0, 0},
		{Amount{N: 5}, 0, 0},
	}
	for _, tt := range tests {
		if got := tt.a.Of(tt.total); got != tt.want {
			t.Errorf("%v.Of(%d) = %d, want %d", tt.a, tt.total, got, tt.want)
		}
	}
}
