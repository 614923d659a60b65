package ansible

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/fleetfix/fleetfix/internal/golden"
	"github.com/fleetfix/fleetfix/inventory"
)

// sources are inventories written from Ansible's own documentation
// examples, with host_vars/ and group_vars/ beside them.
var sources = []struct{ name, path string }{
	{"ini", "testdata/ini/hosts"},
	{"yaml", "testdata/yaml/inventory.yml"},
	{"yaml-dir", "testdata/yaml"},
}

func fleetOf(t *testing.T, path string) (*Inventory, *Fleet) {
	t.Helper()
	inv, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := inv.Fleet()
	if err != nil {
		t.Fatal(err)
	}
	return inv, f
}

func TestImportGolden(t *testing.T) {
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			_, f := fleetOf(t, src.path)
			golden.Check(t, filepath.Join("testdata", src.name+".golden"), Render(f, src.path))
			golden.Check(t, filepath.Join("testdata", src.name+".warnings.golden"), []byte(strings.Join(f.Warnings, "\n")+"\n"))
		})
	}
}

// TestAgainstAnsibleInventory compares each host's groups and variables
// with what ansible-inventory --list resolves for the same inventory.
func TestAgainstAnsibleInventory(t *testing.T) {
	bin, err := exec.LookPath("ansible-inventory")
	if err != nil {
		if os.Getenv("FLEETFIX_LAB_REQUIRED") != "" {
			t.Fatal("ansible-inventory is not installed (scripts/deps.sh installs ansible-core)")
		}
		t.Skip("ansible-inventory is not installed")
	}
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			cmd := exec.Command(bin, "-i", src.path, "--list")
			cmd.Env = append(os.Environ(), "ANSIBLE_INVENTORY_UNPARSED_FAILED=true", "ANSIBLE_LOCALHOST_WARNING=false")
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("ansible-inventory: %v", err)
			}
			want := ansibleList(t, out)
			inv, err := Load(src.path)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, h := range inv.Hosts {
				names = append(names, h.Name)
				if got := normalize(inv.Vars(h.Name)); !reflect.DeepEqual(got, want.vars[h.Name]) {
					t.Errorf("%s vars:\n got %v\nwant %v", h.Name, got, want.vars[h.Name])
				}
				got := slices.DeleteFunc(inv.HostGroups(h.Name), func(g string) bool { return g == "ungrouped" })
				slices.Sort(got)
				if !slices.Equal(got, want.groups[h.Name]) {
					t.Errorf("%s groups: got %v, want %v", h.Name, got, want.groups[h.Name])
				}
			}
			slices.Sort(names)
			if !slices.Equal(names, sortedKeys(want.vars)) {
				t.Errorf("hosts: got %v, want %v", names, sortedKeys(want.vars))
			}
		})
	}
}

type listed struct {
	vars   map[string]map[string]string
	groups map[string][]string // host -> every group above it but all and ungrouped
}

func ansibleList(t *testing.T, out []byte) listed {
	t.Helper()
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(out, &raw); err != nil {
		t.Fatalf("ansible-inventory output: %v", err)
	}
	var meta struct {
		Hostvars map[string]map[string]any `json:"hostvars"`
	}
	if err := json.Unmarshal(raw["_meta"], &meta); err != nil {
		t.Fatal(err)
	}
	type group struct{ Hosts, Children []string }
	groups := map[string]group{}
	for name, r := range raw {
		if name != "_meta" {
			var g group
			if err := json.Unmarshal(r, &g); err != nil {
				t.Fatal(err)
			}
			groups[name] = g
		}
	}
	l := listed{vars: map[string]map[string]string{}, groups: map[string][]string{}}
	var walk func(name string, above []string)
	walk = func(name string, above []string) {
		if name != "all" && name != "ungrouped" {
			above = append(slices.Clone(above), name)
		}
		for _, h := range groups[name].Hosts {
			for _, g := range above {
				if !slices.Contains(l.groups[h], g) {
					l.groups[h] = append(l.groups[h], g)
				}
			}
		}
		for _, c := range groups[name].Children {
			walk(c, above)
		}
	}
	walk("all", nil)
	for h, v := range meta.Hostvars {
		l.vars[h] = normalize(v)
		slices.Sort(l.groups[h])
	}
	return l
}

// normalize renders variables as text, YAML 1.1's yes/no booleans (PyYAML
// reads them as booleans, yaml.v3 as strings) as true/false.
func normalize(vars map[string]any) map[string]string {
	out := map[string]string{}
	for k, v := range vars {
		s := fmt.Sprint(v)
		if b, ok := v.(bool); ok {
			s = fmt.Sprint(b)
		} else if str, ok := v.(string); ok && (str == "yes" || str == "no") {
			s = fmt.Sprint(str == "yes")
		}
		out[k] = s
	}
	return out
}

func TestExpandPattern(t *testing.T) {
	for _, tc := range []struct {
		in    string
		hosts []string
		port  int
		err   string
	}{
		{"web[01:03].example.com", []string{"web01.example.com", "web02.example.com", "web03.example.com"}, 0, ""},
		{"db-[a:c]", []string{"db-a", "db-b", "db-c"}, 0, ""},
		{"www[1:5:2]", []string{"www1", "www3", "www5"}, 0, ""},
		{"r[1:2]-[a:b]", []string{"r1-a", "r1-b", "r2-a", "r2-b"}, 0, ""},
		{"badwolf.example.com:5309", []string{"badwolf.example.com"}, 5309, ""},
		{"web[1:2]:2222", []string{"web1", "web2"}, 2222, ""},
		{"[2001:db8::1]:22", []string{"2001:db8::1"}, 22, ""},
		{"2001:db8::1", []string{"2001:db8::1"}, 0, ""},
		{"host:", nil, 0, "ending in ':'"},
		{"web[01:3]", nil, 0, "equal-length"},
		{"web[c:a]", nil, 0, "begin <= end"},
		{"web[1:2", nil, 0, "without ']'"},
	} {
		hosts, port, err := expandPattern(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || !slices.Equal(hosts, tc.hosts) || port != tc.port {
			t.Errorf("%s: %v %d %v, want %v %d", tc.in, hosts, port, err, tc.hosts, tc.port)
		}
	}
}

func TestLiteral(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want any
	}{
		{"80", 80}, {"-1", -1}, {"0755", "0755"}, {"1.5", 1.5}, {"True", true}, {"true", "true"},
		{"None", nil}, {`"q r"`, "q r"}, {"'x'", "x"}, {"1 # c", 1}, {"blah # c", "blah # c"}, {"a b", "a b"},
	} {
		if got := literal(tc.in); got != tc.want {
			t.Errorf("literal(%q) = %#v, want %#v", tc.in, got, tc.want)
		}
	}
}

func TestShlexSplit(t *testing.T) {
	got, err := shlexSplit(`h a="x y" b='p q' c=d\ e f=g#comment`)
	want := []string{"h", "a=x y", "b=p q", "c=d e", "f=g"}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("got %q %v, want %q", got, err, want)
	}
	if _, err := shlexSplit(`h a="x`); err == nil {
		t.Error("unclosed quote accepted")
	}
}

// TestErrors: what Ansible refuses, and what fleetfix cannot honour.
func TestErrors(t *testing.T) {
	for _, tc := range []struct{ name, file, text, want string }{
		{"undefined child", "hosts", "[a:children]\nb\n", "hosts:2: section [a:children] includes undefined group: b"},
		{"vars of undefined group", "hosts", "[a:vars]\nx=1\n", "hosts:1: section [a:vars] not valid for undefined group: a"},
		{"unknown section type", "hosts", "[a:hosts2]\n", "unknown type"},
		{"bad host var", "hosts", "h1 novalue\n", "hosts:1: expected key=value host variable assignment, got: novalue"},
		{"bad vars line", "hosts", "[a]\nh\n[a:vars]\nnovalue\n", "hosts:4: expected key=value"},
		{"become_user", "hosts", "h1 ansible_become=true ansible_become_user=postgres\n", `h1: ansible_become_user "postgres": fleetfix runs its commands as root only`},
		{"become_method", "hosts", "h1 ansible_become_method=su\n", `ansible_become_method "su"`},
		{"port", "hosts", "h1 ansible_port=abc\n", `ansible_port "abc"`},
		{"yaml hosts list", "inv.yml", "all:\n  hosts:\n    - h1\n", "inv.yml:3: group all: hosts: expected a mapping"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tc.file)
			if err := os.WriteFile(path, []byte(tc.text), 0o644); err != nil {
				t.Fatal(err)
			}
			inv, err := Load(path)
			if err == nil {
				_, err = inv.Fleet()
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// TestWarnings: what is not carried over is said, never dropped silently.
func TestWarnings(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "dynamic.py")
	if err := os.WriteFile(script, []byte("#!/usr/bin/env python3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "plugin.yml"), []byte("plugin: amazon.aws.aws_ec2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "static"), []byte("h1 ansible_ssh_pass=x ansible_ssh_common_args='-o StrictHostKeyChecking=no' ansible_user='{{ u }}'\n[g]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	inv, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	f, err := inv.Fleet()
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(f.Warnings, "\n")
	for _, want := range []string{"dynamic.py: executable", "plugin.yml: an inventory plugin configuration", "variable ansible_ssh_pass (h1) not carried over",
		`ssh option "StrictHostKeyChecking=no" not carried over`, "ansible_user is a Jinja2 template", `group "g" has no hosts`} {
		if !strings.Contains(all, want) {
			t.Errorf("no warning %q in:\n%s", want, all)
		}
	}
}

// TestRenderLoads: the written inventory is one fleetfix's loader accepts,
// once its services stub is filled in.
func TestRenderLoads(t *testing.T) {
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			inv, f := fleetOf(t, src.path)
			doc := append(Render(f, src.path), "services:\n  - unit: smart-proxy.service\n"...)
			got, err := inventory.Parse(filepath.Join(t.TempDir(), "inventory.yaml"), doc)
			if err != nil {
				t.Fatalf("%v\n%s", err, doc)
			}
			if len(got.Hosts) != len(inv.Hosts) || len(got.Bastions) != len(f.Bastions) {
				t.Errorf("loaded %d hosts, %d bastions; want %d, %d", len(got.Hosts), len(got.Bastions), len(inv.Hosts), len(f.Bastions))
			}
			for _, h := range got.Hosts {
				if h.Name == "foo.example.com" && !slices.Contains(got.Groups["webservers"], h.Name) {
					t.Errorf("foo.example.com not in webservers: %v", got.Groups)
				}
			}
		})
	}
}
