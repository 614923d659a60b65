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
	certFiles  []string // Config.CertificateFiles
	passphrase func(keyFile string) ([]byte, error)

	once    sync.Once
	signers []ssh.Signer
	skipped []string // "file: why", for error messages
	// certs are the certificates of certFiles no identity file holds the
	// key of: the agent may.
	certs []*ssh.Certificate
	// own are the public keys of the identity files (also those that did
	// not load), for IdentitiesOnly.
	own map[string]bool
}

func (s *signerCache) get() ([]ssh.Signer, []string) {
	s.once.Do(func() {
		s.own = map[string]bool{}
		var plain []ssh.Signer
		for _, f := range s.files {
			if pub, err := readPublicKey(f + ".pub"); err == nil {
				s.own[string(pub.Marshal())] = true
			}
			signer, err := loadSigner(f, s.passphrase)
			if err != nil {
				s.skipped = append(s.skipped, err.Error())
				continue
			}
			s.own[string(signer.PublicKey().Marshal())] = true
			plain = append(plain, signer)
		}
		certs := s.certificates()
		// A certificate goes before its plain key, as ssh(1) offers them.
		for _, signer := range plain {
			for i, cert := range certs {
				if cert == nil {
					continue
				}
				if cs, err := ssh.NewCertSigner(cert, signer); err == nil {
					s.signers = append(s.signers, cs)
					certs[i] = nil
				}
			}
			s.signers = append(s.signers, signer)
		}
		for _, cert := range certs {
			if cert != nil {
				s.certs = append(s.certs, cert)
			}
		}
	})
	return s.signers, s.skipped
}

// certificates reads IDENTITY-cert.pub beside each identity file (if
// there is one) and the certificate files, once each.
func (s *signerCache) certificates() []*ssh.Certificate {
	var certs []*ssh.Certificate
	seen := map[string]bool{}
	add := func(file string, listed bool) {
		pub, err := readPublicKey(file)
		if err != nil {
			if listed || !errors.Is(err, os.ErrNotExist) {
				s.skipped = append(s.skipped, fmt.Sprintf("certificate %v", err))
			}
			return
		}
		cert, ok := pub.(*ssh.Certificate)
		if !ok {
			s.skipped = append(s.skipped, fmt.Sprintf("certificate %s: not a certificate", file))
			return
		}
		if !seen[string(cert.Marshal())] {
			seen[string(cert.Marshal())] = true
			certs = append(certs, cert)
		}
	}
	for _, f := range s.files {
		add(f+"-cert.pub", false)
	}
	for _, f := range s.certFiles {
		add(f, true)
	}
	return certs
}

// withAgent returns the agent's keys to offer: with identitiesOnly those
// an identity file holds too, each preceded by its certificate if one was
// given for it.
func (s *signerCache) withAgent(agentKeys []ssh.Signer, identitiesOnly bool) []ssh.Signer {
	var out []ssh.Signer
	for _, signer := range agentKeys {
		_, isCert := signer.PublicKey().(*ssh.Certificate)
		if identitiesOnly && !isCert && !s.own[string(signer.PublicKey().Marshal())] {
			continue
		}
		for _, cert := range s.certs {
			if cs, err := ssh.NewCertSigner(cert, signer); err == nil {
				out = append(out, cs)
			}
		}
		out = append(out, signer)
	}
	return out
}

func readPublicKey(file string) (ssh.PublicKey, error) {
	data, err := os.ReadFile(file) //nolint:gosec // G304: beside an identity file the inventory or ssh_config names
	if err != nil {
		return nil, err // *PathError names the file
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return pub, nil
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
		sock := c.cfg.AgentSocket
		if sock == "" {
			sock = os.Getenv("SSH_AUTH_SOCK")
		}
		if sock == "" {
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
				signers = append(signers, c.signers.withAgent(as, c.cfg.IdentitiesOnly)...)
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
