package remote

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// signerCache loads the identity files of one Client once, so Reconnect does
// not ask for passphrases again.
type signerCache struct {
	files      []string
	passphrase func(keyFile string) ([]byte, error)

	once    sync.Once
	signers []ssh.Signer
	skipped []string // "file: why", for error messages
}

func (s *signerCache) get() ([]ssh.Signer, []string) {
	s.once.Do(func() {
		for _, f := range s.files {
			signer, err := loadSigner(f, s.passphrase)
			if err != nil {
				s.skipped = append(s.skipped, err.Error())
				continue
			}
			s.signers = append(s.signers, signer)
		}
	})
	return s.signers, s.skipped
}

// loadSigner reads one private key file, asking for a passphrase only if the
// key is encrypted.
func loadSigner(file string, passphrase func(string) ([]byte, error)) (ssh.Signer, error) {
	data, err := os.ReadFile(file) //nolint:gosec // G304: the identity file the inventory names
	if err != nil {
		return nil, fmt.Errorf("identity %w", err) // *PathError already names the file
	}
	signer, err := ssh.ParsePrivateKey(data)
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		if passphrase == nil {
			return nil, fmt.Errorf("identity %s: encrypted and no passphrase source", file)
		}
		pass, perr := passphrase(file)
		if perr != nil {
			return nil, fmt.Errorf("identity %s: passphrase: %w", file, perr)
		}
		// pass belongs to the caller, who may cache it for other hosts.
		signer, err = ssh.ParsePrivateKeyWithPassphrase(data, pass)
	}
	if err != nil {
		return nil, fmt.Errorf("identity %s: %w", file, err)
	}
	return signer, nil
}

// authSetup is the authentication of one connection attempt.
type authSetup struct {
	methods []ssh.AuthMethod
	skipped []string
	agent   net.Conn
}

// authMethods combines identity files and the agent into one publickey
// method: x/crypto tries each AuthMethod type once, so a second publickey
// method would never be used. Explicit identity files go first so that a
// crowded agent cannot exhaust the server's MaxAuthTries before they are
// offered.
func (c *Client) authMethods() (*authSetup, error) {
	files, skipped := c.signers.get()
	a := &authSetup{skipped: append([]string(nil), skipped...)}
	var ag agent.ExtendedAgent
	if c.cfg.Agent {
		if sock := os.Getenv("SSH_AUTH_SOCK"); sock == "" {
			a.skipped = append(a.skipped, "agent: SSH_AUTH_SOCK is not set")
		} else if conn, err := net.Dial("unix", sock); err != nil { //nolint:gosec // G704: the user's own agent socket, as ssh(1) dials it
			a.skipped = append(a.skipped, fmt.Sprintf("agent: %v", err))
		} else {
			a.agent = conn
			ag = agent.NewClient(conn)
		}
	}
	if len(files) == 0 && ag == nil {
		msg := "no SSH identity: configure identity files or the agent"
		if len(a.skipped) > 0 {
			msg += " (" + strings.Join(a.skipped, "; ") + ")"
		}
		return nil, errors.New(msg)
	}
	a.methods = []ssh.AuthMethod{ssh.PublicKeysCallback(func() ([]ssh.Signer, error) {
		signers := append([]ssh.Signer(nil), files...)
		if ag != nil {
			// An agent failure must not hide the identity files.
			if as, err := ag.Signers(); err == nil {
				signers = append(signers, as...)
			}
		}
		return signers, nil
	})}
	return a, nil
}

// explain adds why identities were left out to a handshake error, because
// "unable to authenticate" alone sends operators looking in the wrong place.
func (a *authSetup) explain(err error) error {
	if len(a.skipped) == 0 {
		return err
	}
	return fmt.Errorf("%w (not used: %s)", err, strings.Join(a.skipped, "; "))
}

func (a *authSetup) close() {
	if a != nil && a.agent != nil {
		_ = a.agent.Close()
	}
}
