package inventory

import (
	"encoding/json"
	"maps"
)

// SchemaID is the $id of the inventory's JSON schema.
const SchemaID = "https://github.com/fleetfix/fleetfix/inventory.schema.json"

// Schema returns the JSON schema (draft-07) of an inventory file, for
// editors to validate and complete it. It describes the shape: keys, types
// and formats. Load checks more (names that must exist, files on disk,
// systemd's settings), and its problems are the ones that count.
func Schema() []byte {
	b, err := json.MarshalIndent(schema(), "", "  ")
	if err != nil {
		panic(err) // the schema is built of maps, strings and numbers
	}
	return append(b, '\n')
}

// obj is one JSON schema object.
type obj = map[string]any

func schema() obj {
	host := object(hostKeys(), merged(connSchema(), obj{"name": nameSchema(), "address": addressSchema(), "groups": list(nameSchema())}), "name", "address")
	bastion := object(bastionKeys(), merged(connSchema(), obj{"name": nameSchema(), "address": addressSchema()}), "name", "address")
	return obj{
		"$schema":     "http://json-schema.org/draft-07/schema#",
		"$id":         SchemaID,
		"title":       "fleetfix inventory",
		"description": "Which hosts to fix, how to reach them, what to push and how to roll it out. inventory.example.yaml documents every key.",
		"type":        "object",
		"properties": obj{
			"defaults": object(append(connKeys(), "ssh_config"), merged(connSchema(), obj{"ssh_config": obj{"type": "boolean"}})),
			"bastions": list(bastion),
			"hosts":    withMin(list(host), 1),
			"groups": obj{"type": "object", "description": "Named groups of hosts, for --limit and for services' and overrides' groups.",
				"propertyNames": nameSchema(), "additionalProperties": list(nameSchema())},
			"services": withMin(list(serviceSchema()), 1),
			"rollout":  rolloutSchema(),
		},
		"required":             []string{"hosts", "services"},
		"additionalProperties": false,
	}
}

func serviceSchema() obj {
	override := object(overrideKeys(), obj{
		"hosts":     withMin(list(nameSchema()), 1),
		"groups":    withMin(list(nameSchema()), 1),
		"dropin":    object([]string{"settings"}, obj{"settings": settingsSchema()}, "settings"),
		"artifacts": list(artifactSchema()),
		"health":    healthSchema(),
		"restart":   restartSchema(),
		"verify":    verifySchema(),
	})
	override["anyOf"] = []obj{{"required": []string{"hosts"}}, {"required": []string{"groups"}}}
	return object(serviceKeys(), obj{
		"unit":      obj{"type": "string", "pattern": `^[A-Za-z0-9:_.\\@-]+$`, "description": "systemd unit; smart-proxy means smart-proxy.service"},
		"hosts":     withMin(list(nameSchema()), 1),
		"groups":    withMin(list(nameSchema()), 1),
		"artifacts": list(artifactSchema()),
		"dropin": object([]string{"name", "section", "settings"}, obj{
			"name":     obj{"type": "string", "pattern": `^[A-Za-z0-9_][A-Za-z0-9._-]*\.conf$`},
			"section":  obj{"type": "string", "pattern": `^[A-Za-z][A-Za-z0-9-]*$`},
			"settings": settingsSchema(),
		}),
		"health":    healthSchema(),
		"restart":   restartSchema(),
		"verify":    verifySchema(),
		"overrides": list(override),
	}, "unit")
}

func artifactSchema() obj {
	return object([]string{"src", "dest", "mode", "owner"}, obj{
		"src":   obj{"type": "string", "minLength": 1},
		"dest":  obj{"type": "string", "pattern": "^/"},
		"mode":  obj{"type": []string{"string", "integer"}, "pattern": "^(0[oO]?)?[0-7]{1,4}$"},
		"owner": obj{"type": "string", "pattern": `^[a-z_][a-z0-9_-]*[$]?(:[a-z_][a-z0-9_-]*[$]?)?$`},
	}, "src", "dest")
}

func settingsSchema() obj {
	scalar := obj{"type": []string{"string", "number", "boolean"}}
	return obj{"type": "object", "minProperties": 1,
		"description":          "systemd settings, Key: value; a list repeats the key",
		"propertyNames":        obj{"pattern": "^[A-Za-z][A-Za-z0-9]*$"},
		"additionalProperties": obj{"anyOf": []obj{scalar, withMin(list(scalar), 1)}}}
}

func healthSchema() obj {
	return object([]string{"tcp", "command", "timeout"}, obj{
		"tcp":     obj{"type": "string", "pattern": `^.+:[0-9]+$`},
		"command": withMin(list(obj{"type": "string"}), 1),
		"timeout": durationSchema(),
	})
}

func restartSchema() obj {
	return object([]string{"old_stop_timeout"}, obj{"old_stop_timeout": durationSchema()})
}

func verifySchema() obj {
	return object([]string{"allow_sigkill", "max_stop", "min_in_flight"}, obj{
		"allow_sigkill": obj{"type": "boolean"},
		"max_stop":      durationSchema(),
		"min_in_flight": obj{"type": "integer", "minimum": 0},
	})
}

func rolloutSchema() obj {
	timeouts := []string{"connect", "preflight", "backup", "push", "reload", "restart", "reboot_down", "reboot_up", "journal"}
	tprops := obj{}
	for _, k := range timeouts {
		tprops[k] = durationSchema()
	}
	amount := obj{"type": []string{"integer", "string"}, "minimum": 0, "pattern": `^[0-9]+%?$`}
	return object([]string{"canary", "batch", "max_parallel", "failure_budget", "reboot", "on_failure", "restart", "confirm_timeout", "settle", "lock_lease", "reboot_inhibitors", "timeouts"}, obj{
		"canary":            obj{"type": "integer", "minimum": 0},
		"batch":             amount,
		"max_parallel":      obj{"type": "integer", "minimum": 1},
		"failure_budget":    amount,
		"reboot":            obj{"type": "boolean"},
		"on_failure":        obj{"enum": []string{string(OnFailureRollback), string(OnFailureStop)}},
		"restart":           obj{"enum": []string{RestartTogether, RestartSequential}},
		"confirm_timeout":   durationSchema(),
		"settle":            durationSchema(),
		"lock_lease":        durationSchema(),
		"reboot_inhibitors": obj{"enum": []string{InhibitorsRespect, InhibitorsIgnore}},
		"timeouts":          object(timeouts, tprops),
	})
}

func connSchema() obj {
	paths := list(obj{"type": "string", "minLength": 1})
	return obj{
		"user":            obj{"type": "string", "pattern": `^[A-Za-z0-9_][A-Za-z0-9._@-]*[$]?$`},
		"port":            obj{"type": "integer", "minimum": 1, "maximum": 65535},
		"identity_files":  paths,
		"agent":           obj{"type": "boolean"},
		"known_hosts":     paths,
		"connect_timeout": durationSchema(),
		"become":          obj{"type": "boolean"},
		"become_password": obj{"type": "boolean"},
		"proxy_jump":      nameSchema(),
		"proxy_command":   obj{"type": "string", "minLength": 1, "description": "argv run without a shell; %h %p %r %n %% expanded"},
		"max_startups":    obj{"type": "integer", "minimum": 1},
		"connect_retries": obj{"type": "integer", "minimum": 0, "maximum": 10},
	}
}

func nameSchema() obj {
	return obj{"type": "string", "pattern": nameRE.String()}
}

func addressSchema() obj {
	return obj{"type": "string", "minLength": 1, "description": "IP address or DNS name, without a port"}
}

// durationSchema is Go's duration syntax with a unit, as Load reads it.
func durationSchema() obj {
	return obj{"type": "string", "pattern": `^0$|^([0-9]+(\.[0-9]*)?(ns|us|µs|ms|s|m|h))+$`, "description": "a duration with a unit: 500ms, 10s, 2m, 1h30m"}
}

// object is a mapping with exactly keys, each described by props, and the
// required ones; it panics on a key without a description, so that the
// schema cannot fall behind the loader's key lists.
func object(keys []string, props obj, required ...string) obj {
	p := obj{}
	for _, k := range keys {
		s, ok := props[k]
		if !ok {
			panic("inventory schema: no description of key " + k)
		}
		p[k] = s
	}
	o := obj{"type": "object", "properties": p, "additionalProperties": false}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

func list(item obj) obj { return obj{"type": "array", "items": item} }

func withMin(o obj, n int) obj {
	o = maps.Clone(o)
	if o["type"] == "array" {
		o["minItems"] = n
	}
	return o
}

func merged(a, b obj) obj {
	out := maps.Clone(a)
	maps.Copy(out, b)
	return out
}
