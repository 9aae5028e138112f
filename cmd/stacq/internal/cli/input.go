package cli

import (
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/stacq/stacq/geo"
)

// maxArgFile caps what an @FILE argument (--filter @FILE) or a --resume
// file is read of: /dev/zero or a wrong file must not take the memory.
const maxArgFile = geo.MaxGeometryBytes

// readArg returns s, or the contents of the file s names when it starts
// with '@', of at most maxArgFile bytes.
func readArg(s string) (string, error) {
	name, ok := strings.CutPrefix(s, "@")
	if !ok {
		return s, nil
	}
	b, err := readFileLimited(name)
	return string(b), err
}

// readFileLimited reads the file name, refusing more than maxArgFile bytes.
func readFileLimited(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(limitedReader(f, maxArgFile))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	return b, nil
}

// readFilter reads a --filter value (CQL2 text, CQL2-JSON, or @FILE of
// either). JSON that does not parse is refused here, as bad input,
// rather than sent.
func readFilter(s, lang string) (string, error) {
	text, err := readArg(s)
	if err != nil {
		return "", err
	}
	t := strings.TrimSpace(text)
	if t == "" {
		return "", fmt.Errorf("expected a CQL2 filter, got nothing")
	}
	if (strings.HasPrefix(t, "{") || strings.EqualFold(lang, "cql2-json")) && !jsontext.Value(t).IsValid() {
		var err error
		dec := jsontext.NewDecoder(strings.NewReader(t))
		if _, err = dec.ReadValue(); err == nil {
			err = fmt.Errorf("more after the JSON object")
		}
		return "", fmt.Errorf("expected CQL2-JSON (a JSON object) or CQL2 text: %v", err)
	}
	return text, nil
}

// checkAPIURL refuses a URL argument that cannot be a STAC API's: a usage
// error, before any request.
func checkAPIURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usagef("expected the http(s) URL of a STAC API, got %q", truncate(raw, 80))
	}
	return nil
}
