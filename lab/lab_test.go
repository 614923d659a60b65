package lab

import (
	"strings"
	"testing"
)

func TestPlan(t *testing.T) {
	tests := []struct {
		subnet  string
		n       int
		gw      string
		first   string
		last    string
		wantErr string
	}{
		{subnet: "10.77.0.0/16", n: 3, gw: "10.77.0.1/16", first: "10.77.0.2", last: "10.77.0.4"},
		{subnet: "10.77.0.0/16", n: 500, gw: "10.77.0.1/16", first: "10.77.0.2", last: "10.77.1.245"},
		{subnet: "10.78.3.7/24", n: 2, gw: "10.78.3.1/24", first: "10.78.3.2", last: "10.78.3.3"},
		{subnet: "10.78.3.0/24", n: 253, gw: "10.78.3.1/24", first: "10.78.3.2", last: "10.78.3.254"},
		{subnet: "10.78.3.0/24", n: 254, wantErr: "room for 253 hosts"},
		{subnet: "nonsense", n: 1, wantErr: "ParsePrefix"},
	}
	for _, tt := range tests {
		gw, hosts, err := plan(tt.subnet, tt.n)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("plan(%s, %d) error = %v, want %q", tt.subnet, tt.n, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("plan(%s, %d): %v", tt.subnet, tt.n, err)
		}
		if gw.String() != tt.gw || len(hosts) != tt.n || hosts[0].Address != tt.first || hosts[tt.n-1].Address != tt.last {
			t.Errorf("plan(%s, %d) = %s, %d hosts %s..%s; want %s, %s..%s", tt.subnet, tt.n, gw, len(hosts), hosts[0].Address, hosts[len(hosts)-1].Address, tt.gw, tt.first, tt.last)
		}
		if hosts[0].Name != "h1" || hosts[tt.n-1].Name != "h"+itoa(tt.n) {
			t.Errorf("host names %s..%s", hosts[0].Name, hosts[tt.n-1].Name)
		}
	}
}

func itoa(n int) string {
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func TestValidate(t *testing.T) {
	tests := []struct {
		c       Config
		wantErr string
	}{
		{c: Config{}, wantErr: ""},
		{c: Config{Bridge: "fflab-too-long"}, wantErr: "must be 1 to 8 characters"},
		{c: Config{Bridge: "br0;x"}, wantErr: "only a-z"},
		{c: Config{Subnet: "fd00::/64"}, wantErr: "IPv4 CIDR"},
		{c: Config{StateDir: "relative/dir"}, wantErr: "absolute"},
	}
	for _, tt := range tests {
		err := tt.c.withDefaults().validate()
		if (err == nil) != (tt.wantErr == "") || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("validate(%+v) = %v, want %q", tt.c, err, tt.wantErr)
		}
	}
}

func TestUnescapeMount(t *testing.T) {
	if got := unescapeMount(`/var/lib/a\040b`); got != "/var/lib/a b" {
		t.Errorf("unescapeMount = %q", got)
	}
}

func TestRootfsKeyChangesWithRecipe(t *testing.T) {
	a := rootfsKey("bookworm")
	if a != rootfsKey("bookworm") || a == rootfsKey("trixie") || !strings.HasPrefix(a, "bookworm-") {
		t.Errorf("rootfsKey not stable or not suite-specific: %s", a)
	}
}
