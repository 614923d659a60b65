package main

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/fleetfix/fleetfix/inventory"
)

func TestInventorySchemaCommand(t *testing.T) {
	out, stderr, code := fleetfix(t, nil, "inventory", "schema")
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if doc["$id"] != inventory.SchemaID || !bytes.Equal([]byte(out), inventory.Schema()) {
		t.Errorf("printed %.200s..., want inventory.Schema()", out)
	}
}
