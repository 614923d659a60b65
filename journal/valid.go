package journal

// maxDepth is encoding/json's nesting limit: json.Valid refuses deeper.
const maxDepth = 10000

// validObject reports whether line is a JSON object, with what json.Valid
// accepts, in one pass: encoding/json's scanner, a state machine called per
// byte, costs half of a scan's journal parse (11 % of a 10,000-host scan's
// CPU), and the parse reads every line whole anyway.
func validObject(line []byte) bool {
	if len(line) == 0 || line[0] != '{' {
		return false
	}
	i, ok := validValue(line, 0, 0)
	return ok && skipWS(line, i) == len(line)
}

func skipWS(s []byte, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n') {
		i++
	}
	return i
}

// validValue checks the value at s[i] (no leading space) and returns where
// it ends.
func validValue(s []byte, i, depth int) (int, bool) {
	if i >= len(s) {
		return i, false
	}
	switch c := s[i]; {
	case c == '{' || c == '[':
		return validContainer(s, i, depth+1)
	case c == '"':
		return validString(s, i)
	case c == '-' || (c >= '0' && c <= '9'):
		return validNumber(s, i)
	}
	for _, lit := range []string{"true", "false", "null"} {
		if len(s)-i >= len(lit) && string(s[i:i+len(lit)]) == lit {
			return i + len(lit), true
		}
	}
	return i, false
}

// validContainer checks the object or array at s[i].
func validContainer(s []byte, i, depth int) (int, bool) {
	if depth > maxDepth {
		return i, false
	}
	obj, end := s[i] == '{', byte(']')
	if obj {
		end = '}'
	}
	i = skipWS(s, i+1)
	if i < len(s) && s[i] == end {
		return i + 1, true
	}
	for {
		var ok bool
		if obj {
			if i >= len(s) || s[i] != '"' {
				return i, false
			}
			if i, ok = validString(s, i); !ok {
				return i, false
			}
			if i = skipWS(s, i); i >= len(s) || s[i] != ':' {
				return i, false
			}
			i = skipWS(s, i+1)
		}
		if i, ok = validValue(s, i, depth); !ok {
			return i, false
		}
		if i = skipWS(s, i); i >= len(s) {
			return i, false
		}
		switch s[i] {
		case end:
			return i + 1, true
		case ',':
			i = skipWS(s, i+1)
		default:
			return i, false
		}
	}
}

// validString checks the string at s[i], which is '"'. As for json.Valid,
// any byte from 0x20 up is a character: UTF-8 is not checked.
func validString(s []byte, i int) (int, bool) {
	for i++; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			return i + 1, true
		case c < 0x20:
			return i, false
		case c == '\\':
			if i++; i >= len(s) {
				return i, false
			}
			switch s[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(s)-i <= 4 || !isHex(s[i+1]) || !isHex(s[i+2]) || !isHex(s[i+3]) || !isHex(s[i+4]) {
					return i, false
				}
				i += 4
			default:
				return i, false
			}
		}
	}
	return i, false
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// validNumber checks the number at s[i]: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func validNumber(s []byte, i int) (int, bool) {
	if s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		i = digits(s, i)
	default:
		return i, false
	}
	if i < len(s) && s[i] == '.' {
		if j := digits(s, i+1); j > i+1 {
			i = j
		} else {
			return j, false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := digits(s, i)
		if j == i {
			return i, false
		}
		i = j
	}
	return i, true
}

func digits(s []byte, i int) int {
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}
