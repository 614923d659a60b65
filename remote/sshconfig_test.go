package remote

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetfix/fleetfix/inventory"
	"github.com/fleetfix/fleetfix/sshcfg"
	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"
)

// resolvedConfig is what fleet's dialer builds from a resolved host, for
// the fields these tests use.
func resolvedConfig(rc inventory.ResolvedConn) Config {
	c := Config{
		Name: rc.Name, Address: rc.Address, Port: rc.Port, User: rc.User,
		IdentityFiles: rc.IdentityFiles, CertificateFiles: rc.CertificateFiles,
		Agent: rc.Agent, KnownHosts: rc.KnownHosts, ConnectTimeout: rc.ConnectTimeout,
		ProxyCommand: rc.ProxyCommand,
	}
	if rc.Jump != nil {
		j := resolvedConfig(*rc.Jump)
		c.Jump = &j
	}
	return c
}

// dialThroughSSHConfig resolves an inventory host whose address is alias
// through the ssh_config text given, dials it, and checks who it logged in
// as.
func dialThroughSSHConfig(t *testing.T, config, alias string) *Client {
	t.Helper()
	e := needSSH(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "ssh_config")
	writeFile(t, conf, config)
	invFile := filepath.Join(dir, "inventory.yaml")
	writeFile(t, invFile, "defaults:\n  agent: false\nhosts:\n  - name: web1\n    address: "+alias+"\nservices:\n  - unit: demo.service\n")
	inv, err := inventory.Load(invFile)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := sshcfg.Load(sshcfg.Paths{User: conf, Home: dir})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := inv.ResolveSSH(inv.Hosts[0], sc)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Dial(testContext(t), resolvedConfig(rc))
	if err != nil {
		t.Fatalf("Dial %s through ssh_config: %v", alias, err)
	}
	t.Cleanup(func() { c.Close() })
	out, err := c.Run(testContext(t), "id", "-un")
	if err != nil || strings.TrimSpace(string(out)) != e.user {
		t.Errorf("id -un = %q, %v; want %s", out, err, e.user)
	}
	return c
}

// TestDialSSHConfigAlias: an inventory host whose address is an ssh_config
// alias connects with the HostName, Port, User, IdentityFile and
// UserKnownHostsFile the config gives it.
func TestDialSSHConfigAlias(t *testing.T) {
	e := needSSH(t)
	c := dialThroughSSHConfig(t, fmt.Sprintf(`Host web1-alias
    HostName 127.0.0.1
    Port %d
    User %s
    IdentityFile %s
    UserKnownHostsFile %s
Host *
    Port 1
    User nobody-here
`, e.target.port, e.user, e.keyFile, knownHostsFile(t, e.target)), "web1-alias")
	if c.jump != nil {
		t.Error("dialed through a jump host")
	}
}

// TestDialSSHConfigProxyJump: ssh_config's ProxyJump names another alias,
// itself resolved through ssh_config, and the host is reached through it.
func TestDialSSHConfigProxyJump(t *testing.T) {
	e := needSSH(t)
	c := dialThroughSSHConfig(t, fmt.Sprintf(`Host target-alias
    HostName 127.0.0.1
    Port %d
    ProxyJump bastion-alias
Host bastion-alias
    HostName 127.0.0.1
    Port %d
Host *
    User %s
    IdentityFile %s
    UserKnownHostsFile %s
`, e.target.port, e.bastion.port, e.user, e.keyFile, knownHostsFile(t, e.target, e.bastion)), "target-alias")
	if c.jump == nil || c.jump.cfg.Port != e.bastion.port {
		t.Errorf("not dialed through the bastion: jump %v", c.jump)
	}
}

// proxyCommand is ssh -W through the bastion to %h:%p, verbose, so that it
// has something to say on stderr.
func (e *sshEnv) proxyCommand(t *testing.T) []string {
	t.Helper()
	if _, err := exec.LookPath("ssh"); err != nil {
		t.Skip("no ssh client (apt-get install openssh-client)")
	}
	line := fmt.Sprintf("ssh -v -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=%s -i %s -p %d -l %s -W %%h:%%p 127.0.0.1",
		knownHostsFile(t, e.bastion), e.keyFile, e.bastion.port, e.user)
	argv, err := sshcfg.Command(line, sshcfg.Tokens{'h': "127.0.0.1", 'p': fmt.Sprint(e.target.port)})
	if err != nil {
		t.Fatal(err)
	}
	return argv
}

// TestDialProxyCommand: a ProxyCommand carries the connection, its stderr
// goes to ProxyStderr, and the host key is still checked for the host's
// own address: a known_hosts that lists only the bastion is refused.
func TestDialProxyCommand(t *testing.T) {
	e := needSSH(t)
	var stderr bytes.Buffer
	cfg := e.config(e.target, knownHostsFile(t, e.target))
	cfg.ProxyCommand, cfg.ProxyStderr = e.proxyCommand(t), &stderr // written by os/exec's copier, read once the command is reaped
	c, err := Dial(testContext(t), cfg)
	if err != nil {
		t.Fatalf("Dial through ProxyCommand: %v", err)
	}
	if out, err := c.Run(testContext(t), "echo", "through"); err != nil || string(out) != "through\n" {
		t.Errorf("Run = %q, %v", out, err)
	}
	c.Close()
	if !strings.Contains(stderr.String(), "debug1:") {
		t.Errorf("ProxyStderr got %q, want ssh -v's debug lines", stderr.String())
	}

	cfg.KnownHosts, cfg.ProxyStderr = []string{knownHostsFile(t, e.bastion)}, nil
	_, err = Dial(testContext(t), cfg)
	var hkErr *HostKeyError
	if !errors.As(err, &hkErr) || hkErr.Addr != e.target.addr() {
		t.Errorf("target's key checked against the bastion's entry: err %v, want a HostKeyError for %s", err, e.target.addr())
	}

	cfg.ProxyCommand = []string{"sh", "-c", "echo no route >&2; exit 3"}
	if _, err = Dial(testContext(t), cfg); err == nil || !strings.Contains(err.Error(), "no route") {
		t.Errorf("failing ProxyCommand: err %v, want its stderr in it", err)
	}
}

// TestDialUserCertificate: a key sshd does not authorize on its own gets in
// with a certificate from the CA sshd trusts (TrustedUserCAKeys), found
// beside the identity file or named by CertificateFiles.
func TestDialUserCertificate(t *testing.T) {
	e := needSSH(t)
	if e.userCA == "" {
		t.Skip("no ssh-keygen to sign a user certificate with")
	}
	dir := t.TempDir()
	key := filepath.Join(dir, "id_ed25519")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v: %s", err, out)
	}
	cfg := e.config(e.target, knownHostsFile(t, e.target))
	cfg.IdentityFiles = []string{key}
	if _, err := Dial(testContext(t), cfg); err == nil {
		t.Fatal("the uncertified key was let in: the test proves nothing")
	}
	if out, err := exec.Command("ssh-keygen", "-q", "-s", e.userCA, "-I", "fleetfix-test", "-n", e.user, key+".pub").CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen -s: %v: %s", err, out)
	}
	c, err := Dial(testContext(t), cfg)
	if err != nil {
		t.Fatalf("Dial with %s-cert.pub beside the key: %v", key, err)
	}
	c.Close()

	elsewhere := filepath.Join(dir, "my.cert")
	if err := os.Rename(key+"-cert.pub", elsewhere); err != nil {
		t.Fatal(err)
	}
	cfg.CertificateFiles = []string{elsewhere}
	if c, err = Dial(testContext(t), cfg); err != nil {
		t.Fatalf("Dial with CertificateFiles: %v", err)
	}
	c.Close()
}

// TestDialTrustOnFirstUseHashed: with HashKnownHosts the key trusted on
// first use is written hashed, ssh-keygen -F finds it, and the next dial
// trusts it.
func TestDialTrustOnFirstUseHashed(t *testing.T) {
	e := needSSH(t)
	kh := filepath.Join(t.TempDir(), "known_hosts")
	cfg := e.config(e.target, kh)
	cfg.TrustOnFirstUse, cfg.HashKnownHosts = true, true
	c, err := Dial(testContext(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	data, _ := os.ReadFile(kh)
	if !strings.HasPrefix(string(data), "|1|") || strings.Contains(string(data), "127.0.0.1") {
		t.Fatalf("known_hosts = %q, want one hashed line", data)
	}
	if _, err := exec.LookPath("ssh-keygen"); err == nil {
		out, err := exec.Command("ssh-keygen", "-F", knownhosts.Normalize(e.target.addr()), "-f", kh).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "found") {
			t.Errorf("ssh-keygen -F: %v: %s", err, out)
		}
	}
	cfg.TrustOnFirstUse = false
	if c, err = Dial(testContext(t), cfg); err != nil {
		t.Fatalf("Dial with the hashed key: %v", err)
	}
	c.Close()
}

// TestDialHostKeyTypeChanged: the host now offers only ed25519 while an
// ECDSA key is on record: the changed-key warning, not "no common
// algorithm for host key".
func TestDialHostKeyTypeChanged(t *testing.T) {
	e := needSSH(t)
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	old, err := ssh.NewPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	kh := filepath.Join(t.TempDir(), "known_hosts")
	writeFile(t, kh, knownhosts.Line([]string{e.target.addr()}, old)+"\n")
	_, err = Dial(testContext(t), e.config(e.target, kh))
	var hkErr *HostKeyError
	if !errors.As(err, &hkErr) || hkErr.Unknown || !strings.Contains(err.Error(), "HAS CHANGED") {
		t.Errorf("err %v, want the changed-key warning", err)
	}
}

// TestCertAuthorityMismatch: a host certificate from a CA the
// @cert-authority lines do not trust for the host is refused with an error
// naming the host and port dialed (the library's names port 22).
func TestCertAuthorityMismatch(t *testing.T) {
	trusted, other := newTestSigner(t), newTestSigner(t)
	hostKey := newTestSigner(t)
	cert := &ssh.Certificate{
		Key: hostKey.PublicKey(), CertType: ssh.HostCert, ValidPrincipals: []string{"127.0.0.1"},
		ValidBefore: ssh.CertTimeInfinity,
	}
	if err := cert.SignCert(rand.Reader, other); err != nil {
		t.Fatal(err)
	}
	kh := filepath.Join(t.TempDir(), "known_hosts")
	writeFile(t, kh, "@cert-authority * "+strings.TrimSpace(string(ssh.MarshalAuthorizedKey(trusted.PublicKey())))+"\n")
	err := checkHostKey(Config{Name: "web1", KnownHosts: []string{kh}}, "127.0.0.1:2222", cert)
	if err == nil {
		t.Fatal("a certificate from an untrusted CA was accepted")
	}
	for _, want := range []string{"web1", "[127.0.0.1]:2222", ssh.FingerprintSHA256(other.PublicKey()), kh} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}

func newTestSigner(t *testing.T) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
