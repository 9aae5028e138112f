package stac

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// SortBy is one sort key of the sort extension.
type SortBy struct {
	Field     string `json:"field"`
	Direction string `json:"direction"` // "asc" or "desc"
}

// Fields is the fields extension's selection of members to include and to
// exclude.
type Fields struct {
	Include []string `json:"include"`
	Exclude []string `json:"exclude"`
}

// ParseSortBy parses sort keys separated by commas: "-properties.datetime,+id",
// "datetime" (ascending), or "datetime:desc".
func ParseSortBy(s string) ([]SortBy, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf(`expected sort keys like "-properties.datetime,+id", got an empty string`)
	}
	var out []SortBy
	for i, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		sb := SortBy{Direction: "asc"}
		switch {
		case strings.HasPrefix(part, "-"):
			sb.Direction, part = "desc", part[1:]
		case strings.HasPrefix(part, "+"):
			part = part[1:]
		default:
			// A colon may also be part of a field name (eo:cloud_cover):
			// only a last ":asc" or ":desc" is a direction.
			if i := strings.LastIndex(part, ":"); i >= 0 {
				switch strings.ToLower(strings.TrimSpace(part[i+1:])) {
				case "asc":
					part = strings.TrimSpace(part[:i])
				case "desc":
					sb.Direction, part = "desc", strings.TrimSpace(part[:i])
				}
			}
		}
		if err := checkFieldName(part); err != nil {
			return nil, fmt.Errorf(`sort key %d: %w; expected "field", "+field", "-field" or "field:desc"`, i+1, err)
		}
		sb.Field = part
		out = append(out, sb)
	}
	return out, nil
}

// checkFieldName accepts a property path such as "properties.eo:cloud_cover".
func checkFieldName(f string) error {
	switch {
	case f == "":
		return fmt.Errorf("empty field name")
	case strings.ContainsAny(f, " \t\r\n,+\"'"):
		return fmt.Errorf("field name %q has a space, comma, quote or '+'", f)
	case strings.HasPrefix(f, "-"):
		return fmt.Errorf("field name %q starts with '-'", f)
	}
	return nil
}

// ParseFields parses the fields extension's list: "id,-geometry,+properties.datetime"
// includes id and properties.datetime and excludes geometry.
func ParseFields(s string) (*Fields, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf(`expected fields like "id,properties.datetime,-assets", got an empty string`)
	}
	f := &Fields{}
	for i, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		exclude := false
		switch {
		case strings.HasPrefix(part, "-"):
			exclude, part = true, part[1:]
		case strings.HasPrefix(part, "+"):
			part = part[1:]
		}
		if err := checkFieldName(part); err != nil {
			return nil, fmt.Errorf(`field %d: %w; expected "name" or "+name" to include, "-name" to exclude`, i+1, err)
		}
		if exclude {
			f.Exclude = append(f.Exclude, part)
		} else {
			f.Include = append(f.Include, part)
		}
	}
	return f, nil
}

// queryOps are the shorthand comparison operators, longest first so that
// "<=" is not read as "<".
var queryOps = []struct{ sym, op string }{
	{"<=", "lte"}, {">=", "gte"}, {"!=", "neq"}, {"<>", "neq"}, {"==", "eq"},
	{"=", "eq"}, {"<", "lt"}, {">", "gt"},
}

// ParseQuery builds a query extension object from arguments that are each
// either a JSON object ({"eo:cloud_cover": {"lt": 10}}) or a shorthand
// comparison as pystac-client's CLI takes it: "eo:cloud_cover<10",
// "gsd>=10", "platform=sentinel-2a", "x==y", "x!=y" (also "x<>y"). A value
// that is a JSON number stays a number as written, true, false and null
// are JSON literals, and a value in single or double quotes
// ("platform='sentinel-2a'") is the string inside them, which is how to
// send "10" or "true" as a string. Conditions on the same property merge:
// "a>1" and "a<5" give {"a": {"gt": 1, "lt": 5}}; a later condition with
// the same operator replaces an earlier one.
func ParseQuery(args []string) (map[string]any, error) {
	q := map[string]any{}
	for i, arg := range args {
		arg = strings.TrimSpace(arg)
		if !utf8.ValidString(arg) {
			return nil, fmt.Errorf("query %d: expected UTF-8 text, got %q", i+1, arg)
		}
		if strings.HasPrefix(arg, "{") {
			if err := parseQueryJSON(q, arg); err != nil {
				return nil, fmt.Errorf("query %d: %w", i+1, err)
			}
			continue
		}
		prop, op, val, err := parseQueryShorthand(arg)
		if err != nil {
			return nil, fmt.Errorf("query %d: %w", i+1, err)
		}
		mergeOp(q, prop, op, val)
	}
	if len(q) == 0 {
		return nil, fmt.Errorf(`expected conditions like "eo:cloud_cover<10" or a JSON object, got none`)
	}
	return q, nil
}

func parseQueryJSON(q map[string]any, arg string) error {
	d := jsontext.NewDecoder(strings.NewReader(arg))
	var obj map[string]jsontext.Value
	if err := json.UnmarshalDecode(d, &obj); err != nil || obj == nil {
		return fmt.Errorf(`expected a JSON object like {"eo:cloud_cover": {"lt": 10}}: %v`, err)
	}
	if _, err := d.ReadToken(); err != io.EOF {
		return fmt.Errorf("expected one JSON object, got more after it")
	}
	for prop, raw := range obj {
		var ops map[string]jsontext.Value
		if prop == "" {
			return fmt.Errorf("empty property name")
		}
		if err := json.Unmarshal(raw, &ops); err != nil || ops == nil {
			return fmt.Errorf(`property %q: expected an object of operators like {"lt": 10}, got %s`, prop, snippet(raw))
		}
		for op, v := range ops {
			mergeOp(q, prop, op, v)
		}
	}
	return nil
}

func mergeOp(q map[string]any, prop, op string, v any) {
	have, ok := q[prop].(map[string]any)
	if !ok {
		have = map[string]any{}
		q[prop] = have
	}
	have[op] = v
}

func parseQueryShorthand(s string) (prop, op string, val any, err error) {
	// The operator is the first operator character; at that position the
	// two-character operators are tried first.
	i := strings.IndexAny(s, "<>=!")
	if i < 0 {
		return "", "", nil, fmt.Errorf(`expected "property<op>value" with <op> one of = == != < <= > >=, or a JSON object, got %q`, s)
	}
	for _, o := range queryOps {
		if strings.HasPrefix(s[i:], o.sym) {
			prop = strings.TrimSpace(s[:i])
			raw := strings.TrimSpace(s[i+len(o.sym):])
			if prop == "" {
				return "", "", nil, fmt.Errorf("expected a property name before %q in %q", o.sym, s)
			}
			if raw == "" {
				return "", "", nil, fmt.Errorf("expected a value after %q in %q", o.sym, s)
			}
			return prop, o.op, queryValue(raw), nil
		}
	}
	return "", "", nil, fmt.Errorf(`unknown operator in %q: expected one of = == != <> < <= > >=`, s)
}

// queryValue makes a JSON number or literal of a value that is one, and
// unquotes a quoted string; anything else stays the string it is.
func queryValue(raw string) any {
	switch v := jsontext.Value(raw); {
	case raw == "true" || raw == "false" || raw == "null":
		return v
	case v.Kind() == '0' && v.IsValid():
		return v
	}
	if len(raw) >= 2 && (raw[0] == '"' || raw[0] == '\'') && raw[len(raw)-1] == raw[0] {
		if raw[0] == '"' {
			var s string
			if json.Unmarshal([]byte(raw), &s) == nil {
				return s
			}
		}
		return raw[1 : len(raw)-1]
	}
	return raw
}
