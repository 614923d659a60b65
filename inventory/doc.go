// Package inventory reads and resolves a fleetfix inventory: the YAML file
// that says which machines to fix (hosts, grouped for --limit), how to reach
// them over SSH (defaults, per-host overrides, bastions), which services to
// fix there (artifacts to push, a systemd drop-in, a health check) and how
// the rollout moves through them (canaries, batches, failure budget, step
// timeouts). inventory.example.yaml documents every key.
//
// # Strictness
//
// Load and Parse check the whole file before anything touches a host, and
// report every mistake at once as an *Error whose Problems read
// "file:line: field: message". The loader walks yaml.v3's node tree against
// the keys each mapping accepts, so an unknown key is an error (with a "did
// you mean" when a known key is close), as are repeated keys, values of the
// wrong type, and values that are well-typed but wrong (a port out of range,
// an artifact that does not exist, a proxy_jump loop, two entries that write
// the same remote file). Only malformed YAML is reported as yaml.v3 words it.
// A loaded Inventory has every default filled in.
//
// # Connection settings
//
// A host's SSH settings come from, in increasing precedence: the built-in
// defaults (user root, port 22, ssh-agent on, ~/.ssh/known_hosts, 10s
// connect timeout), the defaults section, and the host's own keys. A list
// (identity_files, known_hosts) replaces the one below it rather than adding
// to it. Hosts inherit the default proxy_jump, bastions do not (nor the
// host the default names), and proxy_jump: none connects directly. A
// proxy_jump names a bastion or a host: a fleet host may be another's
// bastion, and the engine then orders their reboots. Inventory.Resolve applies these rules;
// Inventory.Select applies --limit.
package inventory
