package inventory

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

// compiledSchema compiles Schema with a JSON schema validator.
func compiledSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(Schema()))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(SchemaID, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(SchemaID)
	if err != nil {
		t.Fatalf("compile the schema: %v", err)
	}
	return sch
}

// validate checks the YAML file at path against sch, as an editor would:
// the YAML read as JSON values.
func validate(t *testing.T, sch *jsonschema.Schema, path string) error {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	j, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("%s as JSON: %v", path, err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	if err != nil {
		t.Fatal(err)
	}
	return sch.Validate(inst)
}

// TestSchemaAcceptsGoodInventories: the example and every good test file,
// which Load accepts, pass the schema.
func TestSchemaAcceptsGoodInventories(t *testing.T) {
	sch := compiledSchema(t)
	files, err := filepath.Glob(filepath.Join(goodDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range append(files, "../inventory.example.yaml") {
		if err := validate(t, sch, f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// TestSchemaRejectsBadInventories: files wrong in their shape fail the
// schema as they fail Load.
func TestSchemaRejectsBadInventories(t *testing.T) {
	sch := compiledSchema(t)
	for _, name := range []string{
		"unknown_top_key", "unknown_host_key", "unknown_verify_key", "unknown_health_key", "bastion_groups",
		"port_not_number", "port_range", "duration_without_unit", "bad_mode", "bad_owner", "not_mapping",
		"no_services", "missing_address", "restart_order", "on_failure", "relative_dest", "override_values",
		"dropin_key", "bad_host_name",
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(badDir, name+".yaml")
			if _, err := Load(path); err == nil {
				t.Fatalf("Load accepts %s", path)
			}
			if err := validate(t, sch, path); err == nil {
				t.Errorf("the schema accepts %s", path)
			}
		})
	}
}

// TestExampleDocumentsEverySchemaKey: every key the schema knows appears
// in inventory.example.yaml, set or in a comment.
func TestExampleDocumentsEverySchemaKey(t *testing.T) {
	example, err := os.ReadFile("../inventory.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var walk func(o obj)
	walk = func(o obj) {
		if props, ok := o["properties"].(obj); ok {
			for k, p := range props {
				if !bytes.Contains(example, []byte(k+":")) {
					t.Errorf("inventory.example.yaml does not mention %s:", k)
				}
				walk(p.(obj))
			}
		}
		for _, k := range []string{"items", "additionalProperties"} {
			if sub, ok := o[k].(obj); ok {
				walk(sub)
			}
		}
	}
	walk(schema())
}
