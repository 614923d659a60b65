package inventory

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// parseDocument parses data into a node tree and returns its top node,
// recording syntax errors, an empty file and trailing documents. It returns
// nil when there is nothing to load.
func parseDocument(p *problems, data []byte) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.add(1, "", "the file is empty; an inventory needs at least hosts and services")
		} else {
			addSyntaxError(p, err, data)
		}
		return nil
	}
	// Only the first document is loaded; a second one would be silently
	// ignored, which is never what the operator meant.
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		addSyntaxError(p, err, data)
	case len(extra.Content) == 1 && !present(extra.Content[0]):
		// A trailing "---" with nothing after it.
	default:
		p.add(extra.Line, "", "a second YAML document follows; an inventory is exactly one document")
	}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		return doc.Content[0]
	}
	return &doc
}

var (
	// yaml.v3 reports malformed YAML as text only; these read its line.
	yamlLineRE   = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
	yamlAnchorRE = regexp.MustCompile(`unknown anchor '(.*)' referenced`)
)

// addSyntaxError records an error of the YAML parser.
func addSyntaxError(p *problems, err error, data []byte) {
	msg := err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		if strings.HasPrefix(m[2], "did not find expected") {
			line = parserErrorLine(data, line, msg)
		}
		p.add(line, "", "invalid YAML: %s", m[2])
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
	p.add(line, "", "invalid YAML: %s", strings.TrimPrefix(msg, "yaml: "))
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
