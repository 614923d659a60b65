package sshcfg

import (
	"errors"
	"fmt"
	"strings"
)

// Tokens are the values of ssh_config's %-tokens, by letter: h (remote
// host name), p (port), r (remote user), n (the alias as given), u (local
// user), d (local home directory).
type Tokens map[byte]string

// Expand replaces the %-tokens of s (%% is a literal %) and a leading ~ or
// ~/, as ssh(1) does in IdentityFile, CertificateFile, UserKnownHostsFile,
// IdentityAgent and ProxyCommand. A token t has no value for is an error,
// so a typo never reaches a path or a command line.
func Expand(s string, t Tokens) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 == len(s) {
			return "", fmt.Errorf("%q: %% at the end", s)
		}
		i++
		if s[i] == '%' {
			b.WriteByte('%')
			continue
		}
		v, ok := t[s[i]]
		if !ok {
			return "", fmt.Errorf("%q: unknown or unsupported token %%%c", s, s[i])
		}
		b.WriteString(v)
	}
	out := b.String()
	if d, ok := t['d']; ok {
		out = expandTilde(out, d)
	}
	return out, nil
}

// Split splits a command line into arguments the way OpenSSH's argv_split
// does: blanks separate, single and double quotes group, and a backslash
// escapes a quote, a backslash or (outside quotes) a blank. Nothing else is
// special: there is no shell, so nothing in the line (or in a token
// expanded into an argument later) can run another command.
func Split(s string) ([]string, error) {
	var args []string
	for i := 0; i < len(s); {
		if s[i] == ' ' || s[i] == '\t' {
			i++
			continue
		}
		var arg strings.Builder
		var quote byte
		for ; i < len(s); i++ {
			c := s[i]
			switch {
			case c == '\\' && i+1 < len(s) && (s[i+1] == '\'' || s[i+1] == '"' || s[i+1] == '\\' || (quote == 0 && s[i+1] == ' ')):
				i++
				arg.WriteByte(s[i])
				continue
			case quote == 0 && (c == ' ' || c == '\t'):
			case quote == 0 && (c == '"' || c == '\''):
				quote = c
				continue
			case quote != 0 && c == quote:
				quote = 0
				continue
			default:
				arg.WriteByte(c)
				continue
			}
			break
		}
		if quote != 0 {
			return nil, fmt.Errorf("%q: unterminated quote", s)
		}
		args = append(args, arg.String())
	}
	if len(args) == 0 {
		return nil, errors.New("empty command")
	}
	return args, nil
}

// Command splits a ProxyCommand into its argv and then expands the tokens
// of each argument: a host name can neither add arguments nor be read by a
// shell.
func Command(line string, t Tokens) ([]string, error) {
	args, err := Split(line)
	if err != nil {
		return nil, err
	}
	for i, a := range args {
		if args[i], err = Expand(a, t); err != nil {
			return nil, err
		}
	}
	return args, nil
}
