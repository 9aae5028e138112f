package cli

import (
	"bufio"
	"fmt"
	"io"
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
	path string // "" for stdout
	tmp  *os.File
	// inPlace is a file continued in place (crawl --state): committed or
	// not, it is kept.
	inPlace *os.File
	buf     *bufio.Writer
	fw      geo.FeatureWriter
	count   int
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
	if o.inPlace != nil {
		if err == nil {
			err = o.inPlace.Sync()
		}
		if cerr := o.inPlace.Close(); err == nil {
			err = cerr
		}
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
	if o.inPlace != nil {
		o.buf.Flush()
		o.inPlace.Close()
		return
	}
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

// appendOutput opens the NDJSON file path to continue it: what follows
// the first size bytes (a page cut short by the run before) is cut off.
// It is written in place, not atomically, and kept whatever happens.
func appendOutput(path string, size int64) (*output, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o666)
	if err != nil {
		return nil, fmt.Errorf("open output: %w", err)
	}
	st, err := f.Stat()
	if err == nil && st.Size() < size {
		err = fmt.Errorf("%s holds %d bytes, fewer than the %d the state recorded: it was changed since", path, st.Size(), size)
	}
	if err == nil {
		err = f.Truncate(size)
	}
	if err == nil {
		_, err = f.Seek(size, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("continue output: %w", err)
	}
	o := &output{path: path, inPlace: f, buf: bufio.NewWriterSize(f, 256<<10)}
	o.fw = geo.NewWriter(o.buf, geo.FormatNDJSON)
	return o, nil
}

// flushed writes what is buffered to the file and returns its size.
func (o *output) flushed() (int64, error) {
	if err := o.buf.Flush(); err != nil {
		return 0, fmt.Errorf("write %s: %w", o.path, err)
	}
	f := o.inPlace
	if f == nil {
		f = o.tmp
	}
	if f == nil {
		return 0, nil
	}
	if err := f.Sync(); err != nil {
		return 0, fmt.Errorf("write %s: %w", o.path, err)
	}
	return f.Seek(0, io.SeekCurrent)
}

// writeFileAtomic writes data to a temporary file beside path and renames
// it into place, so that path holds the old or the new data, never a mix.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := createTemp(filepath.Dir(path), "."+filepath.Base(path)+".", ".partial")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(perm)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// limitedReader reads at most n bytes of r, and fails past them instead
// of ending as if r had.
func limitedReader(r io.Reader, n int64) io.Reader {
	return &capReader{r: io.LimitReader(r, n+1), left: n}
}

type capReader struct {
	r    io.Reader
	left int64
}

func (c *capReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.left -= int64(n); c.left < 0 {
		return n, fmt.Errorf("larger than %d bytes", c.left+int64(n)-1)
	}
	return n, err
}
