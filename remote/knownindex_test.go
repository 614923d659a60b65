package remote

import (
	"crypto/rand"
	"crypto/rsa"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"
)

func newTestRSAHostKey(t *testing.T) ssh.PublicKey {
	t.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ssh.NewPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestKnownIndexAgrees checks that the index gives the libraries' answers:
// the key types on record and whether a key is accepted, for every address
// and key of files it indexes.
func TestKnownIndexAgrees(t *testing.T) {
	a, b, c, r := newTestHostKey(t), newTestHostKey(t), newTestHostKey(t), newTestRSAHostKey(t)
	dir := t.TempDir()
	f1, f2 := filepath.Join(dir, "b_known_hosts"), filepath.Join(dir, "a_known_hosts")
	writeFile(t, f1, "# a comment\n\n"+
		knownhosts.Line([]string{"[10.0.0.1]:2222"}, a)+"\n"+
		knownhosts.Line([]string{"10.0.0.2", "web2"}, b)+"\n"+
		"  "+knownhosts.Line([]string{"[10.0.0.3]:22"}, r)+"  \n"+
		knownhosts.Line([]string{"10.0.0.4:2200"}, c)+"\n")
	writeFile(t, f2, knownhosts.Line([]string{"[10.0.0.1]:2222"}, r)+"\n"+
		knownhosts.Line([]string{"[10.0.0.1]:2222"}, c)+"\n")
	files := []string{f1, f2}
	ix := indexKnownHosts(files)
	if ix == nil {
		t.Fatal("index of literal entries is nil")
	}
	db, err := knownhosts.NewDB(files...)
	if err != nil {
		t.Fatal(err)
	}
	cb := db.HostKeyCallback()
	addrs := []string{"10.0.0.1:2222", "10.0.0.1:22", "10.0.0.2:22", "web2:22", "web2:2222", "10.0.0.3:22", "10.0.0.4:2200", "10.0.0.9:22"}
	for _, addr := range addrs {
		if got, want := ix.algorithms(addr), db.HostKeyAlgorithms(addr); !slices.Equal(got, want) {
			t.Errorf("algorithms(%s) = %v, the library says %v", addr, got, want)
		}
		remote, err := net.ResolveTCPAddr("tcp", strings.Replace(addr, "web2", "10.0.0.2", 1))
		if err != nil {
			t.Fatal(err)
		}
		for i, k := range []ssh.PublicKey{a, b, c, r} {
			libOK := cb(addr, remote, k) == nil
			if got := ix.holds(addr, k); got != libOK {
				t.Errorf("holds(%s, key %d) = %v, the library accepts: %v", addr, i, got, libOK)
			}
		}
	}
}

// TestKnownIndexDeclines checks that a file holding anything but plain
// literal entries leaves the answers to the libraries.
func TestKnownIndexDeclines(t *testing.T) {
	k := newTestHostKey(t)
	plain := knownhosts.Line([]string{"[10.0.0.1]:2222"}, k)
	blob := plain[strings.Index(plain, " ")+1:]
	tests := []struct{ name, line string }{
		{"hashed", "|1|c2FsdHNhbHRzYWx0c2FsdHNhbHQ=|aGFzaGhhc2hoYXNoaGFzaGhhc2g= " + blob},
		{"wildcard", "10.0.0.* " + blob},
		{"one char wildcard", "10.0.0.? " + blob},
		{"negated", "10.0.0.1,!10.0.0.2 " + blob},
		{"cert authority", "@cert-authority *.example.com " + blob},
		{"revoked", "@revoked " + blob},
		{"type mismatch", "10.0.0.1 ssh-rsa " + strings.Fields(blob)[1]},
		{"bad base64", "10.0.0.1 ssh-ed25519 !!!"},
		{"no key", "10.0.0.1 ssh-ed25519"},
		{"bracket without port", "[10.0.0.1] " + blob},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := filepath.Join(t.TempDir(), "known_hosts")
			writeFile(t, f, plain+"\n"+tt.line+"\n")
			if ix := indexKnownHosts([]string{f}); ix != nil {
				t.Errorf("index of a file with %q is not nil", tt.line)
			}
		})
	}
}
