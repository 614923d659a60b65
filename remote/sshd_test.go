package remote

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"
)

// The integration tests run against real OpenSSH sshd processes started here
// as children on 127.0.0.1: "target" for most tests and "bastion" as a
// second, differently keyed host for ProxyJump.

const (
	sshdPath       = "/usr/sbin/sshd"
	requireSSHDEnv = "FLEETFIX_REQUIRE_SSHD"
)

// testSSH is set up once by TestMain; nil when sshd is unavailable (then
// sshdSkip says why).
var (
	testSSH  *sshEnv
	sshdSkip string
)

type sshEnv struct {
	dir      string
	authKeys string
	user     string
	keyFile  string // unencrypted ed25519 identity, authorized on both servers
	userKey  ed25519.PrivateKey
	target   *sshdProc
	bastion  *sshdProc
	sshdLogs []string
	// sudoState is the state directory of the fakeSudo that sessions on
	// the servers find first in PATH.
	sudoState string
	// userCA is the private key of the user CA the servers trust
	// (TrustedUserCAKeys); "" without ssh-keygen.
	userCA string
}

type sshdProc struct {
	name    string
	port    int
	hostKey ssh.Signer
	cmd     *exec.Cmd
	log     string
	done    chan struct{} // closed when sshd has exited and been reaped
	waitErr error
}

func (s *sshdProc) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	if _, err := os.Stat(sshdPath); err != nil {
		sshdSkip = fmt.Sprintf("%s not found (apt-get install openssh-server); set %s=1 to make this an error", sshdPath, requireSSHDEnv)
		return m.Run()
	}
	env, err := setupSSH()
	if err != nil {
		fmt.Fprintf(os.Stderr, "remote tests: cannot start sshd: %v\n", err)
		if env != nil {
			env.dumpLogs()
			env.stop()
		}
		return 1
	}
	testSSH = env
	code := m.Run()
	if code != 0 {
		env.dumpLogs()
	}
	env.stop()
	return code
}

// needSSH skips (or, with FLEETFIX_REQUIRE_SSHD=1, fails) a test that needs
// the sshd servers.
func needSSH(t testing.TB) *sshEnv {
	t.Helper()
	if testSSH == nil {
		if os.Getenv(requireSSHDEnv) == "1" {
			t.Fatalf("sshd required but unavailable: %s", sshdSkip)
		}
		t.Skip(sshdSkip)
	}
	return testSSH
}

func setupSSH() (*sshEnv, error) {
	dir, err := os.MkdirTemp("", "fleetfix-remote-test-")
	if err != nil {
		return nil, err
	}
	// Readable by a non-root login user too (see TestSudoRealHost).
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	u, err := user.Current()
	if err != nil {
		return nil, err
	}
	env := &sshEnv{dir: dir, user: u.Username}
	if os.Geteuid() == 0 {
		// sshd refuses to start as root without its privilege separation
		// directory, which a fresh container may not have.
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			return env, err
		}
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return env, err
	}
	env.userKey = priv
	env.keyFile = filepath.Join(dir, "id_ed25519")
	if err := writePrivateKey(env.keyFile, priv, nil); err != nil {
		return env, err
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return env, err
	}
	authKeys := filepath.Join(dir, "authorized_keys")
	env.authKeys = authKeys
	if err := os.WriteFile(authKeys, ssh.MarshalAuthorizedKey(sshPub), 0o644); err != nil {
		return env, err
	}
	bin := filepath.Join(dir, "bin")
	env.sudoState = filepath.Join(dir, "sudo")
	for _, d := range []string{bin, env.sudoState} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return env, err
		}
	}
	if err := os.WriteFile(filepath.Join(bin, "sudo"), []byte(fakeSudo), 0o755); err != nil {
		return env, err
	}
	if _, err := exec.LookPath("ssh-keygen"); err == nil {
		ca := filepath.Join(dir, userCAName)
		if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", ca).CombinedOutput(); err != nil {
			return env, fmt.Errorf("ssh-keygen: %w: %s", err, out)
		}
		env.userCA = ca
	}
	sessionEnv := fmt.Sprintf("PATH=%s:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin FAKE_SUDO_STATE=%s", bin, env.sudoState)
	if env.target, err = startSSHD(dir, "target", authKeys, sessionEnv); err != nil {
		return env, err
	}
	env.sshdLogs = append(env.sshdLogs, env.target.log)
	if env.bastion, err = startSSHD(dir, "bastion", authKeys, sessionEnv); err != nil {
		return env, err
	}
	env.sshdLogs = append(env.sshdLogs, env.bastion.log)
	return env, nil
}

// writePrivateKey writes priv to file in OpenSSH format, encrypted with
// passphrase unless it is nil. ssh-keygen, where there is one, encrypts it
// with one bcrypt round: the 16 of MarshalPrivateKeyWithPassphrase take
// seconds per parse under -race, and parsing runs the same code either way.
func writePrivateKey(file string, priv ed25519.PrivateKey, passphrase []byte) error {
	keygen, lookErr := exec.LookPath("ssh-keygen")
	if passphrase != nil && lookErr != nil {
		block, err := ssh.MarshalPrivateKeyWithPassphrase(priv, "fleetfix test", passphrase)
		if err != nil {
			return err
		}
		return os.WriteFile(file, pem.EncodeToMemory(block), 0o600)
	}
	block, err := ssh.MarshalPrivateKey(priv, "fleetfix test")
	if err != nil {
		return err
	}
	if err := os.WriteFile(file, pem.EncodeToMemory(block), 0o600); err != nil || passphrase == nil {
		return err
	}
	if out, err := exec.Command(keygen, "-q", "-p", "-a", "1", "-P", "", "-N", string(passphrase), "-f", file).CombinedOutput(); err != nil {
		return fmt.Errorf("ssh-keygen -p: %w: %s", err, out)
	}
	return nil
}

// startSSHD starts one sshd on a free port, retrying if another process
// grabs the port between picking and binding it. sessionEnv, if set, is
// the SetEnv of its sessions; extra lines of config come last: they can
// override only what sshd takes the last value of, such as MaxStartups.
func startSSHD(dir, name, authKeys, sessionEnv string, extra ...string) (*sshdProc, error) {
	_, hostPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	hostKeyFile := filepath.Join(dir, name+"_host_ed25519")
	if err := writePrivateKey(hostKeyFile, hostPriv, nil); err != nil {
		return nil, err
	}
	signer, err := ssh.NewSignerFromKey(hostPriv)
	if err != nil {
		return nil, err
	}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		p := &sshdProc{name: name, port: port, hostKey: signer, log: filepath.Join(dir, fmt.Sprintf("%s-%d.log", name, attempt))}
		conf := filepath.Join(dir, name+"_sshd_config")
		if err := os.WriteFile(conf, []byte(fmt.Sprintf(`Port %d
ListenAddress 127.0.0.1
HostKey %s
AuthorizedKeysFile %s
PermitRootLogin prohibit-password
StrictModes no
PidFile none
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
AllowTcpForwarding yes
PrintMotd no
MaxStartups 50
Subsystem sftp internal-sftp
LogLevel VERBOSE
%s
%s
%s
`, port, hostKeyFile, authKeys, setEnv(sessionEnv), trustedUserCA(dir), strings.Join(extra, "\n"))), 0o644); err != nil {
			return nil, err
		}
		logf, err := os.Create(p.log)
		if err != nil {
			return nil, err
		}
		p.cmd = exec.Command(sshdPath, "-D", "-e", "-f", conf)
		p.cmd.Stdout, p.cmd.Stderr = logf, logf
		p.cmd.SysProcAttr = childProcAttr()
		if err := p.cmd.Start(); err != nil {
			logf.Close()
			return nil, err
		}
		logf.Close()
		p.done = make(chan struct{})
		go func() {
			p.waitErr = p.cmd.Wait()
			close(p.done)
		}()
		if lastErr = waitSSHD(p); lastErr == nil {
			return p, nil
		}
		p.kill()
	}
	return nil, fmt.Errorf("sshd %s did not come up: %w", name, lastErr)
}

// userCAName is the file, in the servers' directory, of the user CA key.
const userCAName = "user_ca"

// trustedUserCA trusts the user CA of dir, if there is one.
func trustedUserCA(dir string) string {
	pub := filepath.Join(dir, userCAName+".pub")
	if _, err := os.Stat(pub); err != nil {
		return ""
	}
	return "TrustedUserCAKeys " + pub
}

func setEnv(env string) string {
	if env == "" {
		return ""
	}
	return "SetEnv " + env
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitSSHD waits until p answers with an SSH banner.
func waitSSHD(p *sshdProc) error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return fmt.Errorf("sshd exited: %v", p.waitErr)
		default:
		}
		conn, err := net.DialTimeout("tcp", p.addr(), time.Second)
		if err == nil {
			_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
			line, rerr := bufio.NewReader(conn).ReadString('\n')
			conn.Close()
			if rerr == nil && strings.HasPrefix(line, "SSH-2.0-") {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("no SSH banner within 10s")
}

func (p *sshdProc) kill() {
	if p != nil && p.done != nil {
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func (e *sshEnv) stop() {
	e.target.kill()
	e.bastion.kill()
	if err := os.RemoveAll(e.dir); err != nil {
		fmt.Fprintf(os.Stderr, "remote tests: %v\n", err)
	}
}

func (e *sshEnv) dumpLogs() {
	for _, l := range e.sshdLogs {
		b, _ := os.ReadFile(l)
		fmt.Fprintf(os.Stderr, "---- %s ----\n%s\n", l, b)
	}
}

// knownHostsFile writes a known_hosts file with one plain line per server.
func knownHostsFile(t testing.TB, servers ...*sshdProc) string {
	t.Helper()
	var lines []string
	for _, s := range servers {
		lines = append(lines, knownhosts.Line([]string{s.addr()}, s.hostKey.PublicKey()))
	}
	f := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(f, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// config is a Config for server s that trusts exactly the servers listed in
// knownHosts.
func (e *sshEnv) config(s *sshdProc, knownHosts string) Config {
	return Config{
		Name:           s.name,
		Address:        "127.0.0.1",
		Port:           s.port,
		User:           e.user,
		IdentityFiles:  []string{e.keyFile},
		KnownHosts:     []string{knownHosts},
		ConnectTimeout: 5 * time.Second,
	}
}

// dial connects to the target with a trusting known_hosts and closes the
// client when the test ends.
func (e *sshEnv) dial(t testing.TB) *Client {
	t.Helper()
	c, err := Dial(testContext(t), e.config(e.target, knownHostsFile(t, e.target)))
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}
