package fleet

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Inventory is a loaded and validated fleet description: how to reach the
// hosts, what to roll out to them and how. Build one with Load or Parse;
// every defaulted field is filled in, so callers never re-apply defaults.
type Inventory struct {
	// Path is the inventory file as given to Load or Parse.
	Path string
	// Defaults is the connection every host and bastion starts from, with
	// the built-in defaults filled in (user root, port 22, agent on, ...).
	Defaults Conn
	// Bastions are jump hosts. They are never rollout targets.
	Bastions []Target
	// Hosts are the rollout targets, in rollout order.
	Hosts []Target
	// Groups maps each group name, from the groups section and from
	// hosts[].groups alike, to its member host names in inventory order.
	Groups map[string][]string
	// Services are the fixes to roll out, in the order the file lists them.
	Services []Service
	// Rollout is the rollout policy, with defaults filled in.
	Rollout Policy

	// dir is the absolute directory of Path, captured at load time so that
	// relative paths keep meaning the same thing if the process later
	// changes its working directory.
	dir string
}

// Conn is a set of SSH connection settings. In Inventory.Defaults it holds
// the effective defaults; in a Target it holds only its own overrides, and
// a zero field (nil for pointers and lists) means "inherit". Use
// Inventory.Resolve to get the settings a host actually connects with.
type Conn struct {
	User string
	Port int
	// IdentityFiles are private keys to offer. A host's non-nil list
	// replaces the default one; an empty non-nil list means "none".
	// Paths may start with ~ and may be relative to the inventory file;
	// Resolve expands them.
	IdentityFiles []string
	// Agent enables keys from ssh-agent (when SSH_AUTH_SOCK is set).
	Agent *bool
	// KnownHosts are the known_hosts files host keys are checked against,
	// with the same override and path rules as IdentityFiles.
	KnownHosts []string
	// ConnectTimeout bounds one SSH dial and handshake (one hop).
	ConnectTimeout time.Duration
	// Become runs remote commands through sudo, for non-root users.
	Become *bool
	// BecomePassword asks the operator for the sudo password once per run;
	// the password itself never lives in the inventory.
	BecomePassword *bool
	// ProxyJump names the bastion to connect through; ProxyJumpNone
	// connects directly even when the defaults name a bastion.
	ProxyJump string
}

// ProxyJumpNone is the proxy_jump value that turns off a default bastion for
// one host. It is OpenSSH's spelling of the same thing; for that reason no
// bastion may be called "none".
const ProxyJumpNone = "none"

// Target is a host of the inventory: a rollout target or a bastion. (Host
// is taken: it is the interface for talking to a connected machine.)
type Target struct {
	Name    string
	Address string
	// Groups lists every group the host belongs to: those from its own
	// groups key first, then those from the groups section.
	Groups []string
	// Conn holds this host's connection overrides (see Conn).
	Conn
	// Line is the line of the host's entry in the inventory file, so later
	// stages can point the operator at it.
	Line int
}

// Service is one systemd unit to fix: the files to push, the drop-in to
// install, and how to tell that it is healthy afterwards.
type Service struct {
	Unit      string // full unit name, e.g. smart-proxy.service
	Artifacts []Artifact
	DropIn    DropIn
	Health    Health
}

// Artifact is a local file pushed to a remote path.
type Artifact struct {
	Src  string // absolute local path
	Dest string // absolute, clean remote path
	// Mode is the remote file's mode. It uses Go's fs.FileMode encoding, so
	// setuid, setgid and sticky are fs.ModeSetuid, fs.ModeSetgid and
	// fs.ModeSticky, not 04000/02000/01000. Nil keeps an existing file's
	// mode and gives a new file 0644.
	Mode *fs.FileMode
	// Owner is "user" or "user:group"; empty keeps an existing file's owner
	// and gives a new file root:root.
	Owner string
}

// DropIn is a systemd drop-in file for a service.
type DropIn struct {
	Name     string // plain file name ending in .conf
	Section  string // unit file section, e.g. Service
	Settings []Setting
}

// Setting is one Key=Value line of a drop-in. A key may repeat, which
// systemd uses to reset list settings (an empty ExecStart= first).
type Setting struct{ Key, Value string }

// Health says how to tell that a service works after its restart.
type Health struct {
	TCP     string   // host:port that must accept a connection, checked on the host; empty = none
	Command []string // argv run on the host, exit 0 = healthy; nil = none
	Timeout time.Duration
}

// Policy is the rollout policy.
type Policy struct {
	Canary        int    // hosts rolled out first, as a batch of their own
	Batch         Amount // hosts per batch after the canaries
	MaxParallel   int    // most hosts in flight at once
	FailureBudget Amount // the run halts once MORE than this many hosts failed
	Reboot        bool   // cold-reboot every host after the restart
	Timeouts      Timeouts
}

// Timeouts bound each step of a host's rollout.
type Timeouts struct {
	Connect    time.Duration // whole connect step: every hop, auth, and retries
	Preflight  time.Duration
	Backup     time.Duration
	Push       time.Duration
	Reload     time.Duration
	Restart    time.Duration
	RebootDown time.Duration // until the host stops answering after the reboot command
	RebootUp   time.Duration // until it answers over SSH again
	Journal    time.Duration
}

// ResolvedConn is the connection a host actually uses: defaults and
// overrides merged, paths expanded, and the bastion chain resolved.
type ResolvedConn struct {
	Name, Address  string
	User           string
	Port           int
	IdentityFiles  []string
	KnownHosts     []string
	Agent          bool
	Become         bool
	BecomePassword bool
	ConnectTimeout time.Duration
	// Jump is the bastion to connect through first, nil for a direct
	// connection. It may itself have a Jump.
	Jump *ResolvedConn
}

// Built-in defaults, documented in inventory.example.yaml.
const (
	defaultUser           = "root"
	defaultPort           = 22
	defaultKnownHosts     = "~/.ssh/known_hosts"
	defaultConnectTimeout = 10 * time.Second
	defaultDropInName     = "override.conf"
	defaultDropInSection  = "Service"
	defaultHealthTimeout  = 15 * time.Second
	defaultCanary         = 1
	defaultMaxParallel    = 10
	maxUnitNameLen        = 255 // systemd's UNIT_NAME_MAX less the NUL
	dropInDir             = "/etc/systemd/system"
)

// DefaultDropIn returns the drop-in used when a service has no dropin or no
// settings: it makes systemd give up on a hung stop after 20s instead of 90s
// and signal the whole control group, which is the fix fleetfix exists for.
func DefaultDropIn() DropIn {
	return DropIn{
		Name:    defaultDropInName,
		Section: defaultDropInSection,
		Settings: []Setting{
			{"TimeoutStopSec", "20s"},
			{"KillMode", "mixed"},
			{"KillSignal", "SIGTERM"},
			{"FinalKillSignal", "SIGKILL"},
		},
	}
}

// DefaultPolicy returns the rollout policy used for everything the rollout
// section leaves out.
func DefaultPolicy() Policy {
	return Policy{
		Canary:        defaultCanary,
		Batch:         Amount{N: 25, Percent: true},
		MaxParallel:   defaultMaxParallel,
		FailureBudget: Amount{},
		Reboot:        true,
		Timeouts: Timeouts{
			Connect:    15 * time.Second,
			Preflight:  30 * time.Second,
			Backup:     60 * time.Second,
			Push:       120 * time.Second,
			Reload:     30 * time.Second,
			Restart:    60 * time.Second,
			RebootDown: 120 * time.Second,
			RebootUp:   300 * time.Second,
			Journal:    30 * time.Second,
		},
	}
}

// Path returns where the drop-in lives on a host for unit.
func (d DropIn) Path(unit string) string {
	return dropInDir + "/" + unit + ".d/" + d.Name
}

// Render returns the drop-in file's content. It is deterministic (settings
// in inventory order) so that an unchanged inventory yields a byte-identical
// file and a rerun can tell there is nothing to do.
func (d DropIn) Render() []byte {
	var b bytes.Buffer
	b.WriteString("# Managed by fleetfix: the next rollout overwrites local edits.\n")
	fmt.Fprintf(&b, "[%s]\n", d.Section)
	for _, s := range d.Settings {
		fmt.Fprintf(&b, "%s=%s\n", s.Key, s.Value)
	}
	return b.Bytes()
}

// Load reads, parses and validates the inventory file at path. Relative
// paths inside it are relative to its directory. An invalid inventory yields
// an *InventoryError listing every problem found.
func Load(path string) (*Inventory, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("inventory: %w", err)
	}
	return Parse(path, data)
}

// Parse parses and validates an inventory read from path; path names the
// file in problems and anchors relative paths. Artifacts are checked on the
// local file system. An invalid inventory yields an *InventoryError.
func Parse(path string, data []byte) (*Inventory, error) {
	p := &problems{file: path}
	root := parseDocument(p, data)
	if len(p.list) > 0 {
		return nil, p.err()
	}
	// The node tree has no types and the structs have no line numbers, so
	// decode twice: the strict decode finds unknown keys and type mistakes,
	// the tree says where each decoded element came from.
	var raw rawInventory
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&raw); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			p.addYAMLError(err, data)
			return nil, p.err()
		}
		p.addDecodeErrors(root.n, te.Errors)
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		dir = filepath.Dir(path)
	}
	l := &loader{p: p, raw: &raw, root: root, inv: &Inventory{Path: path, dir: dir}}
	l.load()
	if len(p.list) > 0 {
		return nil, p.err()
	}
	return l.inv, nil
}

// Resolve returns the connection h actually uses. Settings come from, in
// increasing precedence: the built-in defaults, the defaults section, and
// h's own keys. A host inherits the default proxy_jump; a bastion does not,
// since a default bastion would otherwise have to jump through itself.
func (inv *Inventory) Resolve(h Target) ResolvedConn {
	_, isBastion := inv.bastion(h.Name)
	// Validation refuses cycles; the hop limit only keeps a hand-built,
	// unvalidated Inventory from recursing forever.
	return inv.resolve(h, isBastion, len(inv.Bastions))
}

func (inv *Inventory) resolve(h Target, isBastion bool, hops int) ResolvedConn {
	c := mergeConn(withBuiltinDefaults(inv.Defaults), h.Conn)
	jump := h.ProxyJump
	if jump == "" && !isBastion {
		jump = inv.Defaults.ProxyJump
	}
	rc := ResolvedConn{
		Name:           h.Name,
		Address:        h.Address,
		User:           c.User,
		Port:           c.Port,
		IdentityFiles:  inv.expandPaths(c.IdentityFiles),
		KnownHosts:     inv.expandPaths(c.KnownHosts),
		Agent:          *c.Agent,
		Become:         *c.Become,
		BecomePassword: *c.BecomePassword,
		ConnectTimeout: c.ConnectTimeout,
	}
	if jump != "" && jump != ProxyJumpNone && hops > 0 {
		if b, ok := inv.bastion(jump); ok {
			j := inv.resolve(b, true, hops-1)
			rc.Jump = &j
		}
	}
	return rc
}

// Select returns the hosts named by limit, each entry a host or group name,
// in inventory order and without duplicates; an empty limit selects every
// host. Unknown names, bastions and empty names are errors: a typo in
// --limit must never widen or silently shrink a rollout.
func (inv *Inventory) Select(limit []string) ([]Target, error) {
	if len(limit) == 0 {
		return slices.Clone(inv.Hosts), nil
	}
	want := make(map[string]bool)
	var errs []error
	for _, raw := range limit {
		name := strings.TrimSpace(raw)
		if _, ok := inv.host(name); ok {
			want[name] = true
			continue
		}
		if members, ok := inv.Groups[name]; ok {
			for _, m := range members {
				want[m] = true
			}
			continue
		}
		switch _, isBastion := inv.bastion(name); {
		case name == "":
			errs = append(errs, errors.New("limit: empty host or group name"))
		case isBastion:
			errs = append(errs, fmt.Errorf("limit: %q is a bastion, not a rollout target", name))
		default:
			msg := fmt.Sprintf("limit: no host or group named %q", name)
			if s := suggest(name, inv.targetNames()); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			}
			errs = append(errs, errors.New(msg))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	var out []Target
	for _, h := range inv.Hosts {
		if want[h.Name] {
			out = append(out, h)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("limit: %s selects no hosts", strings.Join(limit, ","))
	}
	return out, nil
}

func (inv *Inventory) host(name string) (Target, bool) {
	for _, h := range inv.Hosts {
		if h.Name == name {
			return h, true
		}
	}
	return Target{}, false
}

func (inv *Inventory) bastion(name string) (Target, bool) {
	for _, b := range inv.Bastions {
		if b.Name == name {
			return b, true
		}
	}
	return Target{}, false
}

// targetNames lists the names --limit accepts, for suggestions.
func (inv *Inventory) targetNames() []string {
	var names []string
	for _, h := range inv.Hosts {
		names = append(names, h.Name)
	}
	for g := range inv.Groups {
		names = append(names, g)
	}
	sort.Strings(names)
	return names
}

// expandPaths expands a leading ~ to the home directory and makes relative
// paths relative to the inventory file. If the home directory is unknown the
// path is left as it is, so the SSH layer fails on it by name.
func (inv *Inventory) expandPaths(paths []string) []string {
	if paths == nil {
		return nil
	}
	dir := inv.dir
	if dir == "" {
		dir = filepath.Dir(inv.Path)
	}
	out := make([]string, 0, len(paths))
	for _, p := range paths {
		if rest, ok := tildePath(p); ok {
			home, err := os.UserHomeDir()
			if err != nil {
				out = append(out, p)
				continue
			}
			p = filepath.Join(home, rest)
		}
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		out = append(out, filepath.Clean(p))
	}
	return out
}

// tildePath reports whether p is "~" or starts with "~/", and returns the
// part after the tilde.
func tildePath(p string) (string, bool) {
	if p == "~" {
		return "", true
	}
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		return rest, true
	}
	return "", false
}

// withBuiltinDefaults fills the zero fields of c with the built-in defaults.
func withBuiltinDefaults(c Conn) Conn {
	yes, no := true, false
	if c.User == "" {
		c.User = defaultUser
	}
	if c.Port == 0 {
		c.Port = defaultPort
	}
	if c.Agent == nil {
		c.Agent = &yes
	}
	if c.KnownHosts == nil {
		c.KnownHosts = []string{defaultKnownHosts}
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = defaultConnectTimeout
	}
	if c.Become == nil {
		c.Become = &no
	}
	if c.BecomePassword == nil {
		c.BecomePassword = &no
	}
	return c
}

// mergeConn returns base with every field that over sets replaced. Lists
// replace rather than append: a host that needs a different key usually
// must not be offered the default one too.
func mergeConn(base, over Conn) Conn {
	if over.User != "" {
		base.User = over.User
	}
	if over.Port != 0 {
		base.Port = over.Port
	}
	if over.IdentityFiles != nil {
		base.IdentityFiles = over.IdentityFiles
	}
	if over.Agent != nil {
		base.Agent = over.Agent
	}
	if over.KnownHosts != nil {
		base.KnownHosts = over.KnownHosts
	}
	if over.ConnectTimeout != 0 {
		base.ConnectTimeout = over.ConnectTimeout
	}
	if over.Become != nil {
		base.Become = over.Become
	}
	if over.BecomePassword != nil {
		base.BecomePassword = over.BecomePassword
	}
	if over.ProxyJump != "" {
		base.ProxyJump = over.ProxyJump
	}
	return base
}

// Problem is one mistake in an inventory file.
type Problem struct {
	Path  string // the inventory file
	Line  int    // 1-based line in Path
	Field string // where in the document, e.g. hosts[2].address; empty for the whole file
	Msg   string
}

// Error formats p as "file:line: field: message", which editors and
// terminals turn into a link to the line.
func (p Problem) Error() string {
	if p.Field == "" {
		return fmt.Sprintf("%s:%d: %s", p.Path, p.Line, p.Msg)
	}
	return fmt.Sprintf("%s:%d: %s: %s", p.Path, p.Line, p.Field, p.Msg)
}

// InventoryError is every problem found in an inventory, in line order, so
// an operator can fix them all in one pass.
type InventoryError struct {
	Problems []Problem
}

// Error lists the problems one per line.
func (e *InventoryError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap exposes each Problem to errors.As.
func (e *InventoryError) Unwrap() []error {
	errs := make([]error, len(e.Problems))
	for i, p := range e.Problems {
		errs[i] = p
	}
	return errs
}

// problems collects the problems of one inventory file.
type problems struct {
	file string
	list []Problem
	// broken are the document paths whose value failed to decode. The
	// structs hold zero values there, so checks on them would only echo
	// the decode error ("port: cannot be 0" after "port: must be an
	// integer") and are suppressed.
	broken []string
}

func (p *problems) addLine(line int, field, format string, args ...any) {
	if line < 1 {
		line = 1
	}
	p.list = append(p.list, Problem{Path: p.file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// add records a problem at node at, unless field lies in a broken subtree.
func (p *problems) add(at nodeRef, field, format string, args ...any) {
	for _, b := range p.broken {
		if b == "" || field == b || strings.HasPrefix(field, b+".") || strings.HasPrefix(field, b+"[") {
			return
		}
	}
	p.addLine(at.line(), field, format, args...)
}

func (p *problems) isBroken(field string) bool { return slices.Contains(p.broken, field) }

func (p *problems) err() error {
	sort.SliceStable(p.list, func(i, j int) bool { return p.list[i].Line < p.list[j].Line })
	// Aliases can make one mistake surface twice; say it once.
	list := slices.CompactFunc(p.list, func(a, b Problem) bool { return a == b })
	return &InventoryError{Problems: list}
}

var (
	yamlLineRE     = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
	yamlAnchorRE   = regexp.MustCompile(`unknown anchor '(.*)' referenced`)
	unknownFieldRE = regexp.MustCompile(`^line (\d+): field (.*) not found in type (\S+)$`)
	fieldSetRE     = regexp.MustCompile(`^line (\d+): field (.*) already set in type (\S+)$`)
	dupKeyRE       = regexp.MustCompile(`^line (\d+): mapping key (".*") already defined at line (\d+)$`)
	mismatchRE     = regexp.MustCompile("^line (\\d+): cannot unmarshal (!!\\w+)(?: `(.*)`)? into (.+)$")
)

// addYAMLError records a syntax error from the YAML parser.
func (p *problems) addYAMLError(err error, data []byte) {
	msg := err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		if strings.HasPrefix(m[2], "did not find expected") {
			line = parserErrorLine(data, line, msg)
		}
		p.addLine(line, "", "invalid YAML: %s", m[2])
		return
	}
	line := 1
	if m := yamlAnchorRE.FindStringSubmatch(msg); m != nil {
		// The parser does not say where the alias is; find it.
		for i, l := range strings.Split(string(data), "\n") {
			if strings.Contains(l, "*"+m[1]) {
				line = i + 1
				break
			}
		}
	}
	p.addLine(line, "", "invalid YAML: %s", strings.TrimPrefix(msg, "yaml: "))
}

// parserErrorLine finds the line of a YAML parser error. yaml.v3 reports
// the zero-based line where the enclosing block starts ("line 1" for a bad
// indent on line 4), which sends the operator to the wrong place; the first
// prefix of the file that fails the same way ends on the offending line.
func parserErrorLine(data []byte, reported int, msg string) int {
	lines := strings.SplitAfter(string(data), "\n")
	for k := max(reported, 1); k <= len(lines); k++ {
		var n yaml.Node
		err := yaml.Unmarshal([]byte(strings.Join(lines[:k], "")), &n)
		if err != nil && strings.HasSuffix(err.Error(), msg[strings.LastIndex(msg, ": ")+2:]) {
			return k
		}
	}
	return reported + 1
}

// addDecodeErrors turns yaml.v3's type errors, which name Go types and only
// a line, into problems that name the document path and say what was
// expected.
func (p *problems) addDecodeErrors(root *yaml.Node, errs []string) {
	index := indexNodes(root, reflect.TypeFor[rawInventory]())
	for _, e := range errs {
		if m := unknownFieldRE.FindStringSubmatch(e); m != nil {
			line, _ := strconv.Atoi(m[1])
			field := keyPath(index, line, m[2])
			msg := fmt.Sprintf("unknown key %q", m[2])
			keys := yamlKeysOf(m[3])
			if s := suggest(m[2], keys); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			} else if len(keys) > 0 {
				msg += "; expected one of: " + strings.Join(keys, ", ")
			}
			p.addLine(line, field, "%s", msg)
			continue
		}
		if m := dupKeyRE.FindStringSubmatch(e); m != nil {
			line, _ := strconv.Atoi(m[1])
			key, _ := strconv.Unquote(m[2])
			field := keyPath(index, line, key)
			// A mapping with a repeated key is not decoded at all.
			p.broken = append(p.broken, parentPath(index, line, key))
			p.addLine(line, field, "key %q repeated (first at line %s)", key, m[3])
			continue
		}
		if m := fieldSetRE.FindStringSubmatch(e); m != nil {
			line, _ := strconv.Atoi(m[1])
			p.addLine(line, keyPath(index, line, m[2]), "key %q set twice", m[2])
			continue
		}
		if m := mismatchRE.FindStringSubmatch(e); m != nil {
			line, _ := strconv.Atoi(m[1])
			field, found := valuePath(index, line, m[2], m[3], m[4])
			if found {
				p.broken = append(p.broken, field)
			}
			p.addLine(line, field, "must be %s, got %s", describeGoType(m[4]), describeValue(m[2], m[3]))
			continue
		}
		if m := yamlLineRE.FindStringSubmatch(e); m != nil {
			line, _ := strconv.Atoi(m[1])
			p.addLine(line, "", "%s", m[2])
			continue
		}
		p.addLine(1, "", "%s", e)
	}
}

// describeGoType says in operator terms what a decode target expects.
func describeGoType(t string) string {
	switch {
	case t == "int":
		return "a whole number"
	case t == "bool":
		return "true or false"
	case t == "time.Duration":
		return "a duration with a unit, such as 10s or 2m"
	case t == "string":
		return "a single value"
	case t == "[]string":
		return "a list of values, such as [a, b]"
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "map["):
		return "a mapping of names to lists"
	}
	if keys := yamlKeysOf(t); len(keys) > 0 {
		return "a mapping with keys " + strings.Join(keys, ", ")
	}
	return "a mapping"
}

func describeValue(tag, value string) string {
	switch tag {
	case "!!seq":
		return "a list"
	case "!!map":
		return "a mapping"
	case "!!null":
		return "nothing"
	}
	return strconv.Quote(value)
}

// nodeEntry is one element of the document: its path, its key node (nil
// for sequence items and the root), its value node, and the Go type the
// strict decode puts it in (nil where the schema has no place for it).
type nodeEntry struct {
	path, parent string
	key, val     *yaml.Node
	typ          reflect.Type
}

// indexNodes lists every element of the tree under root in document order,
// following the raw types from t so that a decode error, which names a line
// and a Go type, can be pinned to one element even when several share the
// line (flow style).
func indexNodes(root *yaml.Node, t reflect.Type) []nodeEntry {
	if root == nil {
		return nil
	}
	out := []nodeEntry{{val: root, typ: t}}
	var walk func(parent string, n *yaml.Node, t reflect.Type)
	walk = func(parent string, n *yaml.Node, t reflect.Type) {
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p, ct := joinPath(parent, k.Value), childType(t, k.Value)
				out = append(out, nodeEntry{path: p, parent: parent, key: k, val: v, typ: ct})
				walk(p, v, ct)
			}
		case yaml.SequenceNode:
			var et reflect.Type
			if t = derefType(t); t != nil && t.Kind() == reflect.Slice {
				et = t.Elem()
			}
			for i, v := range n.Content {
				p := indexPath(parent, i)
				out = append(out, nodeEntry{path: p, parent: parent, val: v, typ: et})
				walk(p, v, et)
			}
		}
	}
	walk("", root, t)
	return out
}

func derefType(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// childType is the type the value of key decodes into inside a t.
func childType(t reflect.Type, key string) reflect.Type {
	t = derefType(t)
	switch {
	case t == nil:
		return nil
	case t.Kind() == reflect.Map:
		return t.Elem()
	case t.Kind() != reflect.Struct || t == reflect.TypeFor[yaml.Node]():
		return nil
	}
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if opts == "inline" {
			if ct := childType(f.Type, key); ct != nil {
				return ct
			}
		} else if name == key {
			return f.Type
		}
	}
	return nil
}

// keyPath is the path of the key named key on line; the error messages of
// yaml.v3 only carry the line.
func keyPath(index []nodeEntry, line int, key string) string {
	for _, e := range index {
		if e.key != nil && e.key.Line == line && e.key.Value == key {
			return e.path
		}
	}
	return key
}

func parentPath(index []nodeEntry, line int, key string) string {
	for _, e := range index {
		if e.key != nil && e.key.Line == line && e.key.Value == key {
			return e.parent
		}
	}
	return ""
}

// valuePath is the path of the value on line with the given tag, (maybe
// truncated, as yaml.v3 prints it) text, and target Go type.
func valuePath(index []nodeEntry, line int, tag, value, goType string) (string, bool) {
	prefix, truncated := strings.CutSuffix(value, "...")
	for _, e := range index {
		v := e.val
		if v.Line != line || v.ShortTag() != tag || e.typ == nil || derefType(e.typ).String() != goType {
			continue
		}
		if tag == "!!seq" || tag == "!!map" || v.Value == value || (truncated && strings.HasPrefix(v.Value, prefix)) {
			return e.path, true
		}
	}
	return "", false
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

func indexPath(parent string, i int) string { return fmt.Sprintf("%s[%d]", parent, i) }

// nodeRef points into the document tree while the loader walks the decoded
// structs in parallel with it. Looking up what is not there (a defaulted
// key, a key that came from a merge) yields the enclosing node, so a
// problem still gets the nearest line.
type nodeRef struct{ n *yaml.Node }

func (r nodeRef) deref() *yaml.Node {
	n := r.n
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func (r nodeRef) key(name string) nodeRef {
	if n := r.deref(); n != nil && n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == name {
				return nodeRef{n.Content[i+1]}
			}
		}
	}
	return r
}

// keys lists a mapping's keys in document order.
func (r nodeRef) keys() []string {
	var out []string
	if n := r.deref(); n != nil && n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			out = append(out, n.Content[i].Value)
		}
	}
	return out
}

func (r nodeRef) line() int {
	if r.n == nil || r.n.Line < 1 {
		return 1
	}
	return r.n.Line
}

// present reports whether r is a value the document actually gives, as
// opposed to nothing or an explicit null.
func (r nodeRef) present() bool {
	n := r.deref()
	return n != nil && n.Kind != 0 && !(n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// parseDocument parses data into a node tree and returns its top node,
// recording syntax errors, an empty file and trailing documents.
func parseDocument(p *problems, data []byte) nodeRef {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.addLine(1, "", "the file is empty; an inventory needs at least hosts and services")
		} else {
			p.addYAMLError(err, data)
		}
		return nodeRef{}
	}
	// Only the first document is decoded; a second one would be silently
	// ignored, which is never what the operator meant.
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		p.addYAMLError(err, data)
	case len(extra.Content) == 1 && !(nodeRef{extra.Content[0]}).present():
		// A trailing "---" with nothing after it.
	default:
		p.addLine(extra.Line, "", "a second YAML document follows; an inventory is exactly one document")
	}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		return nodeRef{doc.Content[0]}
	}
	return nodeRef{&doc}
}

// The raw types mirror the file. They are decoded strictly (KnownFields),
// use pointers where "absent" differs from the zero value, and hold a
// yaml.Node where the loader parses the text itself, which keeps the strict
// decode going and gives exact lines. None has an UnmarshalYAML method:
// node.Decode inside one would drop KnownFields.
type rawInventory struct {
	Defaults rawConn             `yaml:"defaults"`
	Bastions []rawBastion        `yaml:"bastions"`
	Hosts    []rawHost           `yaml:"hosts"`
	Groups   map[string][]string `yaml:"groups"`
	Services []rawService        `yaml:"services"`
	Rollout  rawRollout          `yaml:"rollout"`
}

type rawConn struct {
	User           string         `yaml:"user"`
	Port           *int           `yaml:"port"`
	IdentityFiles  []string       `yaml:"identity_files"`
	Agent          *bool          `yaml:"agent"`
	KnownHosts     []string       `yaml:"known_hosts"`
	ConnectTimeout *time.Duration `yaml:"connect_timeout"`
	Become         *bool          `yaml:"become"`
	BecomePassword *bool          `yaml:"become_password"`
	ProxyJump      string         `yaml:"proxy_jump"`
}

type rawHost struct {
	Name    string   `yaml:"name"`
	Address string   `yaml:"address"`
	Groups  []string `yaml:"groups"`
	Conn    rawConn  `yaml:",inline"`
}

// rawBastion has no groups: bastions are not rollout targets, and the
// strict decode then refuses the key by itself.
type rawBastion struct {
	Name    string  `yaml:"name"`
	Address string  `yaml:"address"`
	Conn    rawConn `yaml:",inline"`
}

type rawService struct {
	Unit      string        `yaml:"unit"`
	Artifacts []rawArtifact `yaml:"artifacts"`
	DropIn    *rawDropIn    `yaml:"dropin"`
	Health    *rawHealth    `yaml:"health"`
}

type rawArtifact struct {
	Src   string    `yaml:"src"`
	Dest  string    `yaml:"dest"`
	Mode  yaml.Node `yaml:"mode"`
	Owner string    `yaml:"owner"`
}

type rawDropIn struct {
	Name     string    `yaml:"name"`
	Section  string    `yaml:"section"`
	Settings yaml.Node `yaml:"settings"`
}

type rawHealth struct {
	TCP     string         `yaml:"tcp"`
	Command []string       `yaml:"command"`
	Timeout *time.Duration `yaml:"timeout"`
}

type rawRollout struct {
	Canary        *int        `yaml:"canary"`
	Batch         yaml.Node   `yaml:"batch"`
	MaxParallel   *int        `yaml:"max_parallel"`
	FailureBudget yaml.Node   `yaml:"failure_budget"`
	Reboot        *bool       `yaml:"reboot"`
	Timeouts      rawTimeouts `yaml:"timeouts"`
}

type rawTimeouts struct {
	Connect    *time.Duration `yaml:"connect"`
	Preflight  *time.Duration `yaml:"preflight"`
	Backup     *time.Duration `yaml:"backup"`
	Push       *time.Duration `yaml:"push"`
	Reload     *time.Duration `yaml:"reload"`
	Restart    *time.Duration `yaml:"restart"`
	RebootDown *time.Duration `yaml:"reboot_down"`
	RebootUp   *time.Duration `yaml:"reboot_up"`
	Journal    *time.Duration `yaml:"journal"`
}

// yamlKeysOf lists the keys of the raw type yaml.v3 calls typeName, for
// "unknown key" messages.
func yamlKeysOf(typeName string) []string {
	for _, v := range []any{rawInventory{}, rawConn{}, rawHost{}, rawBastion{}, rawService{},
		rawArtifact{}, rawDropIn{}, rawHealth{}, rawRollout{}, rawTimeouts{}} {
		if t := reflect.TypeOf(v); t.String() == typeName {
			return yamlKeys(t)
		}
	}
	return nil
}

func yamlKeys(t reflect.Type) []string {
	var keys []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if opts == "inline" {
			keys = append(keys, yamlKeys(f.Type)...)
			continue
		}
		keys = append(keys, name)
	}
	return keys
}

var (
	// Names end up in --limit, logs and local file names, so they start
	// with a letter or digit: no "-x" that reads as a flag, no "..".
	nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	// A DNS name; underscores are allowed because internal DNS has them.
	hostnameRE = regexp.MustCompile(`^[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?$`)
	userRE     = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._@-]*[$]?$`)
	ownerRE    = regexp.MustCompile(`^[a-z_][a-z0-9_-]*[$]?(:[a-z_][a-z0-9_-]*[$]?)?$`)
	unitCharRE = regexp.MustCompile(`^[A-Za-z0-9:_.\\@-]+$`)
	dropInRE   = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]*\.conf$`)
	sectionRE  = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]*$`)
	settingRE  = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]*$`)
)

// unitTypes are systemd's unit type suffixes.
func unitTypes() []string {
	return []string{"service", "socket", "target", "device", "mount", "automount",
		"swap", "timer", "path", "slice", "scope"}
}

// loader validates the decoded document and builds the Inventory, walking
// the raw structs and the node tree side by side.
type loader struct {
	p    *problems
	raw  *rawInventory
	root nodeRef
	inv  *Inventory
	// Where each decoded bastion and host came from, by index.
	bastionAt, hostAt []item
}

// item is where a decoded sequence element came from.
type item struct {
	at    nodeRef
	field string // e.g. hosts[2]
}

// items returns where each of the n elements that the strict decode kept of
// the sequence seq (at path field) came from. yaml.v3 drops elements that
// fail to decode as a whole (wrong kind, repeated key) or are null, so the
// i-th decoded element is not always the i-th node. mapping says whether
// the elements are mappings (structs) or single values.
func (l *loader) items(seq nodeRef, field string, n int, mapping bool) []item {
	var out []item
	if sn := seq.deref(); sn != nil && sn.Kind == yaml.SequenceNode {
		for i, c := range sn.Content {
			r, f := nodeRef{c}, indexPath(field, i)
			switch k := r.deref().Kind; {
			case !r.present():
				// Dropped without a word by yaml.v3; usually a host or
				// value left half-deleted.
				l.p.add(r, f, "empty entry")
				continue
			case mapping && k != yaml.MappingNode, !mapping && k != yaml.ScalarNode, l.p.isBroken(f):
				continue // the decode error is already reported
			}
			out = append(out, item{r, f})
		}
	}
	if len(out) != n {
		// Not expected; the sequence itself is the best place to point at.
		out = out[:0]
		for i := range n {
			out = append(out, item{seq, indexPath(field, i)})
		}
	}
	return out
}

// empty reports whether the document gives no elements at seq.
func empty(seq nodeRef) bool {
	n := seq.deref()
	return n == nil || n.Kind != yaml.SequenceNode || len(n.Content) == 0
}

func (l *loader) load() {
	l.inv.Defaults = withBuiltinDefaults(l.conn(l.raw.Defaults, l.root.key("defaults"), "defaults"))
	l.hosts()
	l.groups()
	l.proxyJumps()
	l.endpoints()
	l.services()
	l.rollout()
}

func (l *loader) conn(rc rawConn, at nodeRef, field string) Conn {
	c := Conn{
		User:           rc.User,
		IdentityFiles:  rc.IdentityFiles,
		Agent:          rc.Agent,
		KnownHosts:     rc.KnownHosts,
		Become:         rc.Become,
		BecomePassword: rc.BecomePassword,
		ProxyJump:      rc.ProxyJump,
	}
	if rc.User != "" && (!userRE.MatchString(rc.User) || len(rc.User) > 255) {
		l.p.add(at.key("user"), joinPath(field, "user"), "%q is not a valid user name", rc.User)
	}
	if rc.Port != nil {
		if *rc.Port < 1 || *rc.Port > 65535 {
			l.p.add(at.key("port"), joinPath(field, "port"), "%d is out of range 1-65535", *rc.Port)
		}
		c.Port = *rc.Port
	}
	if rc.ConnectTimeout != nil {
		if *rc.ConnectTimeout <= 0 {
			l.p.add(at.key("connect_timeout"), joinPath(field, "connect_timeout"), "must be positive, got %s", *rc.ConnectTimeout)
		}
		c.ConnectTimeout = *rc.ConnectTimeout
	}
	for _, key := range []string{"identity_files", "known_hosts"} {
		list := rc.IdentityFiles
		if key == "known_hosts" {
			list = rc.KnownHosts
		}
		for i, it := range l.items(at.key(key), joinPath(field, key), len(list), false) {
			l.localPath(list[i], it.at, it.field)
		}
	}
	if rc.ProxyJump != "" && rc.ProxyJump != ProxyJumpNone && !nameRE.MatchString(rc.ProxyJump) {
		l.p.add(at.key("proxy_jump"), joinPath(field, "proxy_jump"), "%q is not a valid bastion name", rc.ProxyJump)
	}
	return c
}

// localPath checks a path on the operator's machine.
func (l *loader) localPath(p string, at nodeRef, field string) {
	switch {
	case p == "":
		l.p.add(at, field, "empty path")
	case hasControl(p):
		l.p.add(at, field, "path contains control characters")
	case strings.HasPrefix(p, "~"):
		if _, ok := tildePath(p); !ok {
			l.p.add(at, field, "only ~ and ~/ are expanded, not ~user: %q", p)
		}
	}
}

func (l *loader) hosts() {
	inv := l.inv
	// Hosts and bastions share one namespace: proxy_jump, --limit and
	// the logs all refer to machines by name.
	seen := make(map[string]string)
	name := func(n string, at nodeRef, field string) {
		switch {
		case n == "":
			l.p.add(at, joinPath(field, "name"), "required")
			return
		case !nameRE.MatchString(n):
			l.p.add(at.key("name"), joinPath(field, "name"), "%q is not a valid name: use letters, digits, '.', '_' and '-', starting with a letter or digit", n)
			return
		}
		if prev, dup := seen[n]; dup {
			l.p.add(at.key("name"), joinPath(field, "name"), "duplicate name %q, already used by %s", n, prev)
			return
		}
		seen[n] = fmt.Sprintf("%s (line %d)", field, at.line())
	}
	l.bastionAt = l.items(l.root.key("bastions"), "bastions", len(l.raw.Bastions), true)
	for i, rb := range l.raw.Bastions {
		at, field := l.bastionAt[i].at, l.bastionAt[i].field
		name(rb.Name, at, field)
		if rb.Name == ProxyJumpNone {
			l.p.add(at.key("name"), joinPath(field, "name"), "%q is reserved: proxy_jump: none means no bastion", rb.Name)
		}
		l.address(rb.Address, at, field)
		inv.Bastions = append(inv.Bastions, Target{Name: rb.Name, Address: rb.Address, Conn: l.conn(rb.Conn, at, field), Line: at.line()})
	}
	hn := l.root.key("hosts")
	if empty(hn) {
		l.p.add(hn, "hosts", "at least one host is required")
	}
	l.hostAt = l.items(hn, "hosts", len(l.raw.Hosts), true)
	for i, rh := range l.raw.Hosts {
		at, field := l.hostAt[i].at, l.hostAt[i].field
		name(rh.Name, at, field)
		l.address(rh.Address, at, field)
		inv.Hosts = append(inv.Hosts, Target{Name: rh.Name, Address: rh.Address, Conn: l.conn(rh.Conn, at, field), Line: at.line()})
	}
}

func (l *loader) address(a string, at nodeRef, field string) {
	field = joinPath(field, "address")
	switch {
	case a == "":
		l.p.add(at, field, "required")
	case net.ParseIP(a) != nil:
	case strings.HasPrefix(a, "["):
		l.p.add(at.key("address"), field, "write IPv6 addresses without brackets, and the port under port")
	case strings.Contains(a, ":"):
		l.p.add(at.key("address"), field, "%q: give the address only; the port goes under port", a)
	case len(a) > 253 || !hostnameRE.MatchString(a):
		l.p.add(at.key("address"), field, "%q is not a host name or IP address", a)
	}
}

// groups merges hosts[].groups and the groups section into Inventory.Groups
// and each Target.Groups.
func (l *loader) groups() {
	inv := l.inv
	hostIdx := make(map[string]int)
	for i, h := range inv.Hosts {
		if _, dup := hostIdx[h.Name]; !dup {
			hostIdx[h.Name] = i
		}
	}
	isBastion := make(map[string]bool)
	for _, b := range inv.Bastions {
		isBastion[b.Name] = true
	}
	member := make(map[string]map[string]bool) // group -> host names
	join := func(group string, hostIndex int) {
		if member[group] == nil {
			member[group] = make(map[string]bool)
		}
		h := &inv.Hosts[hostIndex]
		if !member[group][h.Name] {
			member[group][h.Name] = true
			if !slices.Contains(h.Groups, group) {
				h.Groups = append(h.Groups, group)
			}
		}
	}
	isHostName := func(n string) bool { _, ok := hostIdx[n]; return ok }
	isGroup := func(n string) bool { _, ok := l.raw.Groups[n]; return ok || member[n] != nil }
	collided := make(map[string]bool)
	groupName := func(g string, at nodeRef, field string) bool {
		switch {
		case !nameRE.MatchString(g):
			l.p.add(at, field, "%q is not a valid group name: use letters, digits, '.', '_' and '-', starting with a letter or digit", g)
			return false
		case isHostName(g), isBastion[g]:
			// --limit takes host and group names alike, so one name
			// must not mean both.
			if !collided[g] {
				collided[g] = true
				kind := "host"
				if isBastion[g] {
					kind = "bastion"
				}
				l.p.add(at, field, "group %q has the name of a %s", g, kind)
			}
			return false
		}
		return true
	}

	for i, rh := range l.raw.Hosts {
		at := l.hostAt[i]
		for j, it := range l.items(at.at.key("groups"), joinPath(at.field, "groups"), len(rh.Groups), false) {
			if groupName(rh.Groups[j], it.at, it.field) {
				join(rh.Groups[j], i)
			}
		}
	}

	gs := l.root.key("groups")
	names := gs.keys()
	for g := range l.raw.Groups {
		if !slices.Contains(names, g) { // from a merge key: not in the node
			names = append(names, g)
		}
	}
	for _, g := range names {
		members, ok := l.raw.Groups[g]
		if !ok {
			continue
		}
		field := joinPath("groups", g)
		if !groupName(g, gs.key(g), field) {
			continue
		}
		if member[g] == nil {
			member[g] = make(map[string]bool) // an empty group still exists
		}
		for j, it := range l.items(gs.key(g), field, len(members), false) {
			m, at, mf := members[j], it.at, it.field
			if i, ok := hostIdx[m]; ok {
				join(g, i)
				continue
			}
			switch {
			case m == "":
				l.p.add(at, mf, "empty host name")
			case isBastion[m]:
				l.p.add(at, mf, "%q is a bastion; bastions are not rollout targets", m)
			case isGroup(m):
				l.p.add(at, mf, "%q is a group; groups list hosts, not other groups", m)
			default:
				msg := fmt.Sprintf("unknown host %q", m)
				if s := suggest(m, slices.Sorted(maps.Keys(hostIdx))); s != "" {
					msg += fmt.Sprintf("; did you mean %q?", s)
				}
				l.p.add(at, mf, "%s", msg)
			}
		}
	}

	inv.Groups = make(map[string][]string, len(member))
	for g, set := range member {
		list := []string{}
		for _, h := range inv.Hosts {
			if set[h.Name] {
				list = append(list, h.Name)
			}
		}
		inv.Groups[g] = list
	}
}

// proxyJumps checks that every proxy_jump names a bastion and that no chain
// of bastions loops.
func (l *loader) proxyJumps() {
	inv := l.inv
	bastionIdx := make(map[string]int)
	for i, b := range inv.Bastions {
		bastionIdx[b.Name] = i
	}
	check := func(jump string, at nodeRef, field string) {
		if jump == "" || jump == ProxyJumpNone || !nameRE.MatchString(jump) {
			return // absent, or already refused as a bad name
		}
		if _, ok := bastionIdx[jump]; ok {
			return
		}
		if _, ok := inv.host(jump); ok {
			l.p.add(at.key("proxy_jump"), joinPath(field, "proxy_jump"), "%q is a host; jump hosts must be listed under bastions", jump)
			return
		}
		msg := fmt.Sprintf("unknown bastion %q", jump)
		if s := suggest(jump, slices.Sorted(maps.Keys(bastionIdx))); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		}
		l.p.add(at.key("proxy_jump"), joinPath(field, "proxy_jump"), "%s", msg)
	}
	check(inv.Defaults.ProxyJump, l.root.key("defaults"), "defaults")
	for i, b := range inv.Bastions {
		check(b.ProxyJump, l.bastionAt[i].at, l.bastionAt[i].field)
	}
	for i, h := range inv.Hosts {
		check(h.ProxyJump, l.hostAt[i].at, l.hostAt[i].field)
	}

	// Follow each bastion's chain; a name seen twice on one walk is a
	// cycle. Report each cycle once, at its first bastion in file order.
	inCycle := make(map[string]bool)
	for i, b := range inv.Bastions {
		if inCycle[b.Name] {
			continue
		}
		chain := []string{b.Name}
		cur := b
		for {
			next, ok := bastionIdx[cur.ProxyJump]
			if !ok || cur.ProxyJump == ProxyJumpNone {
				break
			}
			cur = inv.Bastions[next]
			if at := slices.Index(chain, cur.Name); at >= 0 {
				if at == 0 {
					for _, n := range chain {
						inCycle[n] = true
					}
					chain = append(chain, cur.Name)
					l.p.add(l.bastionAt[i].at.key("proxy_jump"), joinPath(l.bastionAt[i].field, "proxy_jump"),
						"proxy_jump cycle: %s", strings.Join(chain, " -> "))
				}
				// Otherwise b only leads into a cycle, reported at its
				// own first member.
				break
			}
			chain = append(chain, cur.Name)
		}
	}
}

// endpoints refuses two hosts that reach the same sshd: the rollout would
// fix, back up and reboot one machine twice, concurrently.
func (l *loader) endpoints() {
	type endpoint struct {
		addr string
		port int
		jump string
	}
	seen := make(map[endpoint]string)
	for i, h := range l.inv.Hosts {
		if h.Address == "" {
			continue
		}
		c := mergeConn(l.inv.Defaults, h.Conn)
		jump := c.ProxyJump
		if jump == ProxyJumpNone {
			jump = ""
		}
		ep := endpoint{strings.ToLower(h.Address), c.Port, jump}
		if prev, dup := seen[ep]; dup {
			l.p.add(l.hostAt[i].at.key("address"), joinPath(l.hostAt[i].field, "address"),
				"%s port %d is the same machine as %s", h.Address, c.Port, prev)
			continue
		}
		seen[ep] = fmt.Sprintf("%s (%s)", l.hostAt[i].field, h.Name)
	}
}

func (l *loader) services() {
	sn := l.root.key("services")
	if empty(sn) {
		l.p.add(sn, "services", "at least one service is required")
	}
	units := make(map[string]string)
	// Every remote file fleetfix writes, artifacts and drop-ins alike: two
	// writers of one file would each back up the other's version. Drop-ins
	// go first so that a clash is blamed on the artifact, the one the
	// operator spelled out.
	type target struct {
		dest, field string
		at          nodeRef
	}
	var dropIns, artifacts []target
	svcAt := l.items(sn, "services", len(l.raw.Services), true)
	for i, rs := range l.raw.Services {
		at, field := svcAt[i].at, svcAt[i].field
		var svc Service
		unitField := joinPath(field, "unit")
		unit, err := normalizeUnit(rs.Unit)
		unique := false
		if err != nil {
			l.p.add(at.key("unit"), unitField, "%v", err)
		} else if prev, dup := units[unit]; dup {
			l.p.add(at.key("unit"), unitField, "duplicate unit %s, already in %s", unit, prev)
		} else {
			units[unit] = field
			unique = true
		}
		svc.Unit = unit

		for j, it := range l.items(at.key("artifacts"), joinPath(field, "artifacts"), len(rs.Artifacts), true) {
			a := l.artifact(rs.Artifacts[j], it.at, it.field)
			svc.Artifacts = append(svc.Artifacts, a)
			if a.Dest != "" {
				artifacts = append(artifacts, target{a.Dest, joinPath(it.field, "dest"), it.at.key("dest")})
			}
		}
		svc.DropIn = l.dropIn(rs.DropIn, at.key("dropin"), joinPath(field, "dropin"))
		if unique {
			dropIns = append(dropIns, target{svc.DropIn.Path(unit), joinPath(field, "dropin"), at.key("dropin")})
		}
		svc.Health = l.health(rs.Health, at.key("health"), joinPath(field, "health"))
		l.inv.Services = append(l.inv.Services, svc)
	}
	seen := make(map[string]string)
	for _, t := range append(dropIns, artifacts...) {
		if prev, dup := seen[t.dest]; dup {
			l.p.add(t.at, t.field, "%s is also written by %s", t.dest, prev)
			continue
		}
		seen[t.dest] = t.field
	}
}

// normalizeUnit validates a unit name by systemd's rules and, like
// systemctl, appends ".service" when the name has no unit type suffix. The
// character rules also keep shell metacharacters out of remote commands.
func normalizeUnit(name string) (string, error) {
	if name == "" {
		return "", errors.New("required")
	}
	if !unitCharRE.MatchString(name) {
		for _, r := range name {
			if !unitCharRE.MatchString(string(r)) {
				return "", fmt.Errorf("%q: invalid character %q; unit names use only letters, digits and \":-_.\\@\"", name, r)
			}
		}
	}
	if name[0] == '-' || name[0] == '.' {
		// "-x" would reach systemctl as an option.
		return "", fmt.Errorf("%q must not start with %q", name, name[0])
	}
	if i := strings.LastIndexByte(name, '.'); i < 0 || !slices.Contains(unitTypes(), name[i+1:]) {
		name += ".service"
	}
	if len(name) > maxUnitNameLen {
		return "", fmt.Errorf("unit name longer than %d characters", maxUnitNameLen)
	}
	prefix := name[:strings.LastIndexByte(name, '.')]
	if at := strings.IndexByte(prefix, '@'); at >= 0 {
		switch {
		case at == 0:
			return "", fmt.Errorf("%q: nothing before @", name)
		case at == len(prefix)-1:
			// A template cannot be restarted or health-checked; its
			// instances can.
			return "", fmt.Errorf("%q is a template; name an instance, such as %s", name, prefix+"main"+name[len(prefix):])
		}
	}
	return name, nil
}

func (l *loader) artifact(ra rawArtifact, at nodeRef, field string) Artifact {
	a := Artifact{Dest: ra.Dest, Owner: ra.Owner}
	srcField := joinPath(field, "src")
	switch src := ra.Src; {
	case src == "":
		l.p.add(at, srcField, "required")
	case hasControl(src):
		l.p.add(at.key("src"), srcField, "path contains control characters")
	default:
		if rest, ok := tildePath(src); ok {
			home, err := os.UserHomeDir()
			if err != nil {
				l.p.add(at.key("src"), srcField, "cannot expand ~: %v", err)
				break
			}
			src = filepath.Join(home, rest)
		} else if strings.HasPrefix(src, "~") {
			l.p.add(at.key("src"), srcField, "only ~ and ~/ are expanded, not ~user: %q", src)
			break
		}
		if !filepath.IsAbs(src) {
			src = filepath.Join(l.inv.dir, src)
		}
		a.Src = filepath.Clean(src)
		// Checked now so that a typo fails before any host is touched,
		// not halfway through a batch.
		fi, err := os.Stat(a.Src)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			l.p.add(at.key("src"), srcField, "%s does not exist", a.Src)
		case err != nil:
			l.p.add(at.key("src"), srcField, "%v", err)
		case !fi.Mode().IsRegular():
			l.p.add(at.key("src"), srcField, "%s is not a regular file", a.Src)
		}
	}

	destField := joinPath(field, "dest")
	switch d := ra.Dest; {
	case d == "":
		l.p.add(at, destField, "required")
	case hasControl(d):
		l.p.add(at.key("dest"), destField, "path contains control characters")
	case !path.IsAbs(d):
		l.p.add(at.key("dest"), destField, "%q must be an absolute path", d)
	case slices.Contains(strings.Split(d, "/"), ".."):
		l.p.add(at.key("dest"), destField, "%q must not contain ..", d)
	case path.Clean(d) != d:
		l.p.add(at.key("dest"), destField, "%q is not a clean path; write %q", d, path.Clean(d))
	case d == "/":
		l.p.add(at.key("dest"), destField, "must name a file, not /")
	}

	if mn := at.key("mode"); ra.Mode.Kind != 0 {
		m, err := parseMode(&ra.Mode)
		if err != nil {
			l.p.add(mn, joinPath(field, "mode"), "%v", err)
		}
		a.Mode = m
	}
	if ra.Owner != "" && !ownerRE.MatchString(ra.Owner) {
		l.p.add(at.key("owner"), joinPath(field, "owner"), "%q is not user or user:group", ra.Owner)
	}
	return a
}

// parseMode reads a file mode. The text is always octal, as with chmod,
// whether the YAML says "0755", 0755, 0o755 or 755: YAML 1.2 would read an
// unquoted 0755 as decimal 755, which is never what is meant. Nil means
// absent.
func parseMode(n *yaml.Node) (*fs.FileMode, error) {
	r := nodeRef{n}
	if !r.present() {
		return nil, nil
	}
	n = r.deref()
	if n.Kind != yaml.ScalarNode {
		return nil, errors.New(`must be octal permission bits, such as "0755"`)
	}
	digits := strings.TrimPrefix(strings.TrimPrefix(n.Value, "0o"), "0O")
	if digits == "" || strings.TrimLeft(digits, "01234567") != "" {
		return nil, fmt.Errorf("%q is not octal permission bits, such as \"0755\"", n.Value)
	}
	v, err := strconv.ParseUint(digits, 8, 32)
	if err != nil || v > 0o7777 {
		return nil, fmt.Errorf("%q is above 07777", n.Value)
	}
	m := goMode(v)
	return &m, nil
}

func (l *loader) dropIn(rd *rawDropIn, at nodeRef, field string) DropIn {
	d := DefaultDropIn()
	if rd == nil {
		return d
	}
	if rd.Name != "" {
		if !dropInRE.MatchString(rd.Name) {
			l.p.add(at.key("name"), joinPath(field, "name"), "%q must be a plain file name ending in .conf, such as override.conf", rd.Name)
		}
		d.Name = rd.Name
	}
	if rd.Section != "" {
		if !sectionRE.MatchString(rd.Section) {
			l.p.add(at.key("section"), joinPath(field, "section"), "%q is not a unit file section name, such as Service", rd.Section)
		}
		d.Section = rd.Section
	}
	if sn := (nodeRef{&rd.Settings}); sn.present() {
		d.Settings = l.settings(sn, joinPath(field, "settings"))
	}
	return d
}

// settings reads the settings mapping in document order; a list value
// repeats the key, e.g. ExecStart: ["", /usr/bin/x] resets ExecStart first.
func (l *loader) settings(sn nodeRef, field string) []Setting {
	n := sn.deref()
	if n.Kind != yaml.MappingNode {
		l.p.add(sn, field, "must be a mapping of systemd settings, such as KillMode: mixed")
		return nil
	}
	if len(n.Content) == 0 {
		l.p.add(sn, field, "is empty; leave settings out to get the defaults")
		return nil
	}
	var out []Setting
	seen := make(map[string]int)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], (nodeRef{n.Content[i+1]})
		kf := joinPath(field, k.Value)
		if k.Kind != yaml.ScalarNode || !settingRE.MatchString(k.Value) {
			l.p.add(nodeRef{k}, kf, "%q is not a systemd setting name, such as KillMode", k.Value)
			continue
		}
		if line, dup := seen[k.Value]; dup {
			l.p.add(nodeRef{k}, kf, "repeated (first at line %d); give a list to repeat a setting", line)
			continue
		}
		seen[k.Value] = k.Line
		var values []nodeRef
		switch vn := v.deref(); {
		case !v.present():
			l.p.add(v, kf, `has no value; write "" to reset the setting`)
			continue
		case vn.Kind == yaml.ScalarNode:
			values = []nodeRef{v}
		case vn.Kind == yaml.SequenceNode && len(vn.Content) > 0:
			for _, item := range vn.Content {
				values = append(values, nodeRef{item})
			}
		default:
			l.p.add(v, kf, "must be a value or a non-empty list of values")
			continue
		}
		for j, item := range values {
			vf := kf
			if len(values) > 1 || v.deref().Kind == yaml.SequenceNode {
				vf = indexPath(kf, j)
			}
			in := item.deref()
			if in.Kind != yaml.ScalarNode || !item.present() {
				l.p.add(item, vf, "must be a single value")
				continue
			}
			switch {
			case strings.ContainsAny(in.Value, "\n\r\x00"):
				l.p.add(item, vf, "value must be one line")
				continue
			case strings.HasSuffix(in.Value, `\`):
				// systemd would join the next line onto this one.
				l.p.add(item, vf, `value must not end with \`)
				continue
			}
			out = append(out, Setting{Key: k.Value, Value: in.Value})
		}
	}
	return out
}

func (l *loader) health(rh *rawHealth, at nodeRef, field string) Health {
	h := Health{Timeout: defaultHealthTimeout}
	if rh == nil {
		return h
	}
	if rh.TCP != "" {
		if err := checkHostPort(rh.TCP); err != nil {
			l.p.add(at.key("tcp"), joinPath(field, "tcp"), "%v", err)
		}
		h.TCP = rh.TCP
	}
	if rh.Command != nil {
		cf := joinPath(field, "command")
		switch {
		case len(rh.Command) == 0:
			l.p.add(at.key("command"), cf, "empty; leave command out for no command check")
		case rh.Command[0] == "":
			l.p.add(at.key("command"), cf, "the program (first element) is empty")
		}
		for i, it := range l.items(at.key("command"), cf, len(rh.Command), false) {
			if strings.ContainsRune(rh.Command[i], 0) {
				l.p.add(it.at, it.field, "contains a NUL byte")
			}
		}
		h.Command = rh.Command
	}
	if rh.Timeout != nil {
		if *rh.Timeout <= 0 {
			l.p.add(at.key("timeout"), joinPath(field, "timeout"), "must be positive, got %s", *rh.Timeout)
		}
		h.Timeout = *rh.Timeout
	}
	return h
}

func checkHostPort(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil || host == "" {
		return fmt.Errorf("%q is not host:port, such as 127.0.0.1:8080", s)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("%q: port must be a number in 1-65535", s)
	}
	return nil
}

func (l *loader) rollout() {
	r := l.raw.Rollout
	at := l.root.key("rollout")
	pol := DefaultPolicy()
	if r.Canary != nil {
		if *r.Canary < 0 {
			l.p.add(at.key("canary"), "rollout.canary", "must be 0 (no canary) or more, got %d", *r.Canary)
		}
		pol.Canary = *r.Canary
	}
	if a, ok := l.amount(&r.Batch, at.key("batch"), "rollout.batch"); ok {
		if a.N == 0 {
			l.p.add(at.key("batch"), "rollout.batch", "must be at least 1 host or 1%%")
		}
		pol.Batch = a
	}
	if r.MaxParallel != nil {
		if *r.MaxParallel < 1 {
			l.p.add(at.key("max_parallel"), "rollout.max_parallel", "must be at least 1, got %d", *r.MaxParallel)
		}
		pol.MaxParallel = *r.MaxParallel
	}
	if a, ok := l.amount(&r.FailureBudget, at.key("failure_budget"), "rollout.failure_budget"); ok {
		pol.FailureBudget = a
	}
	if r.Reboot != nil {
		pol.Reboot = *r.Reboot
	}
	tn := at.key("timeouts")
	for _, t := range []struct {
		key string
		raw *time.Duration
		dst *time.Duration
	}{
		{"connect", r.Timeouts.Connect, &pol.Timeouts.Connect},
		{"preflight", r.Timeouts.Preflight, &pol.Timeouts.Preflight},
		{"backup", r.Timeouts.Backup, &pol.Timeouts.Backup},
		{"push", r.Timeouts.Push, &pol.Timeouts.Push},
		{"reload", r.Timeouts.Reload, &pol.Timeouts.Reload},
		{"restart", r.Timeouts.Restart, &pol.Timeouts.Restart},
		{"reboot_down", r.Timeouts.RebootDown, &pol.Timeouts.RebootDown},
		{"reboot_up", r.Timeouts.RebootUp, &pol.Timeouts.RebootUp},
		{"journal", r.Timeouts.Journal, &pol.Timeouts.Journal},
	} {
		if t.raw == nil {
			continue
		}
		if *t.raw <= 0 {
			l.p.add(tn.key(t.key), "rollout.timeouts."+t.key, "must be positive, got %s", *t.raw)
		}
		*t.dst = *t.raw
	}
	l.inv.Rollout = pol
}

// amount parses an Amount from n; ok is false when n is absent or invalid.
func (l *loader) amount(n *yaml.Node, at nodeRef, field string) (Amount, bool) {
	r := nodeRef{n}
	if !r.present() {
		return Amount{}, false
	}
	if r.deref().Kind != yaml.ScalarNode {
		l.p.add(at, field, "must be a number of hosts such as 3, or a percentage such as 25%%")
		return Amount{}, false
	}
	a, err := ParseAmount(r.deref().Value)
	if err != nil {
		l.p.add(at, field, "%v", err)
		return Amount{}, false
	}
	return a, true
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// suggest returns the candidate closest to s if it is close enough to be a
// likely typo, else "".
func suggest(s string, candidates []string) string {
	best, bestDist := "", 3
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(s), strings.ToLower(c)); d < bestDist && d < len(c) {
			best, bestDist = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
