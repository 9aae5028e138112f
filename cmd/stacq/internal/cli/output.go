package cli

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"

	"github.com/stacq/stacq/geo"
)

// output is where a command writes features: stdout, or a file that is
// written beside its final name and renamed into place only on success,
// so a failed or interrupted run never leaves a truncated file under the
// requested name.
type output struct {
	path  string // "" for stdout
	tmp   *os.File
	buf   *bufio.Writer
	fw    geo.FeatureWriter
	count int
}

// openOutput opens path ("" or "-" for stdout) in the format named by
// format, or inferred from path's extension when format is "".
func openOutput(io IO, path, format string) (*output, error) {
	if path == "-" {
		path = ""
	}
	var f geo.Format
	var err error
	switch {
	case format != "":
		if f, err = geo.ParseFormat(format); err != nil {
			return nil, flagError("format", err)
		}
	case path != "":
		if f, err = geo.FormatForPath(path); err != nil {
			return nil, flagError("output", fmt.Errorf("%w (or set --format)", err))
		}
	default:
		f = geo.FormatFeatureCollection
	}
	o := &output{path: path}
	if path == "" {
		o.buf = bufio.NewWriterSize(io.Stdout, 64<<10)
	} else {
		dir := filepath.Dir(path)
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return nil, flagError("output", fmt.Errorf("directory %s does not exist", dir))
		}
		tmp, err := createTemp(dir, "."+filepath.Base(path)+".", ".partial")
		if err != nil {
			return nil, fmt.Errorf("create output: %w", err)
		}
		o.tmp = tmp
		o.buf = bufio.NewWriterSize(tmp, 256<<10)
	}
	o.fw = geo.NewWriter(o.buf, f)
	return o, nil
}

// Write writes one feature.
func (o *output) Write(v any) error {
	if err := o.fw.Write(v); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	o.count++
	return nil
}

// Commit completes the document and, for a file, moves it into place.
func (o *output) Commit() error {
	err := o.fw.Close()
	if ferr := o.buf.Flush(); err == nil {
		err = ferr
	}
	if o.tmp == nil {
		if err != nil {
			return fmt.Errorf("write output: %w", err)
		}
		return nil
	}
	if err == nil {
		err = o.tmp.Sync()
	}

	if cerr := o.tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(o.tmp.Name(), o.path)
	}
	if err != nil {
		os.Remove(o.tmp.Name())
		return fmt.Errorf("write %s: %w", o.path, err)
	}
	return nil
}

// Discard ends an output to which nothing was written, because the
// command failed before it started (the API could not be opened): stdout
// gets nothing at all, a file's temporary is removed.
func (o *output) Discard() {
	if o.tmp != nil {
		o.tmp.Close()
		os.Remove(o.tmp.Name())
	}
}

// Abort ends a failed run: stdout still gets a complete document (closing
// brackets), a file's temporary is removed and the requested name is left
// untouched.
func (o *output) Abort() {
	if o.tmp == nil {
		o.fw.Close()
		o.buf.Flush()
		return
	}
	o.tmp.Close()
	os.Remove(o.tmp.Name())
}

// createTemp creates a new file named prefix+random+suffix in dir, like
// os.CreateTemp but with the mode of an ordinary file (0666 less the
// umask) rather than 0600: the output is renamed into place as is.
func createTemp(dir, prefix, suffix string) (*os.File, error) {
	for range 100 {
		name := filepath.Join(dir, prefix+strconv.FormatUint(rand.Uint64(), 36)+suffix)
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if os.IsExist(err) {
			continue
		}
		return f, err
	}
	return nil, fmt.Errorf("create a temporary file in %s: too many attempts", dir)
}
