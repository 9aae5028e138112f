package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/stacq/stacq/geo"
)

// output is where a command writes features: stdout; an ordinary file,
// written beside its final name (the target of a symlink) and renamed
// into place only on success, so a failed or interrupted run never
// leaves a truncated file under the requested name; or a device, FIFO or
// /dev/fd/N, written in place, where no atomicity is possible.
//
// Nothing reaches stdout or a device before the first feature: a command
// that fails before it writes nothing at all, not an empty document.
type output struct {
	path string // as given; "" for stdout
	tmp  *os.File
	// direct is a device, FIFO or /dev/fd/N written in place.
	direct *os.File
	// inPlace is a file continued in place (crawl --state): committed or
	// not, it is kept.
	inPlace *os.File
	// tmpDir is a directory (a partitioned stac-geoparquet dataset)
	// written beside path and renamed into place on success.
	tmpDir string
	temps  *tempFiles // where tmp is registered until it is renamed or removed
	buf    *bufio.Writer
	fw     geo.FeatureWriter
	count  int
}

// openOutput opens path ("" or "-" for stdout) in the format named by
// format, or inferred from path's extension when format is "". A path
// that cannot be written (a directory, a missing directory) is refused
// here, before any request.
func openOutput(io IO, path, format string) (*output, error) {
	if path == "-" {
		path = ""
	}
	target, err := outputTarget(path)
	if err != nil {
		return nil, flagError("output", err)
	}
	var f geo.Format
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
	o := &output{path: path, temps: io.temps}
	switch {
	case target.stdout:
		o.buf = bufio.NewWriterSize(io.Stdout, 64<<10)
	case target.direct:
		if o.direct, err = os.OpenFile(target.path, os.O_WRONLY|os.O_APPEND, 0); err != nil {
			return nil, fmt.Errorf("open output: %w", err)
		}
		o.buf = bufio.NewWriterSize(o.direct, 64<<10)
	default:
		dir, base := filepath.Split(target.path)
		removeStaleTemps(io, dir, base)
		tmp, err := createTemp(dir, "."+base+".", ".partial")
		if err != nil {
			return nil, fmt.Errorf("create output: %w", err)
		}
		if target.existing != nil {
			err = keepMode(tmp, target.existing)
		}
		if err == nil {
			err = lockFile(tmp)
		}
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			return nil, fmt.Errorf("create output: %w", err)
		}
		o.tmp = tmp
		o.temps.add(tmp.Name())
		o.buf = bufio.NewWriterSize(tmp, 256<<10)
		o.path = target.path
	}
	o.fw = geo.NewWriter(o.buf, f)
	return o, nil
}

// outputFile is what an -o path names.
type outputFile struct {
	path     string      // the file to write: path with its symlinks followed
	stdout   bool        // the process's stdout (/dev/stdout, /dev/fd/1)
	direct   bool        // a device, FIFO, socket or /dev/fd/N: written in place
	existing os.FileInfo // the ordinary file replaced, nil when new
}

// outputTarget follows the symlinks of path (a dangling one names the
// file to create, as the shell's > does) and says how to write it.
func outputTarget(path string) (outputFile, error) {
	if path == "" {
		return outputFile{stdout: true}, nil
	}
	for range 40 {
		if fd, ok := fdPath(path); ok {
			return outputFile{path: path, stdout: fd == 1, direct: fd != 1}, nil
		}
		st, err := os.Lstat(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			dir := filepath.Dir(path)
			if st, err := os.Stat(dir); err != nil || !st.IsDir() {
				return outputFile{}, fmt.Errorf("directory %s does not exist", dir)
			}
			return outputFile{path: path}, nil
		case err != nil:
			return outputFile{}, err
		case st.Mode()&fs.ModeSymlink != 0:
			dest, err := os.Readlink(path)
			if err != nil {
				return outputFile{}, err
			}
			if !filepath.IsAbs(dest) {
				dest = filepath.Join(filepath.Dir(path), dest)
			}
			path = dest
		case st.IsDir():
			return outputFile{}, fmt.Errorf("%s is a directory; expected a file name", path)
		case st.Mode().IsRegular():
			return outputFile{path: path, existing: st}, nil
		default: // device, FIFO, socket
			return outputFile{path: path, direct: true}, nil
		}
	}
	return outputFile{}, fmt.Errorf("%s: too many levels of symbolic links", path)
}

// fdPath tells the names of open file descriptors (/dev/stdout,
// /dev/fd/3, /proc/self/fd/3), whose targets are no paths to write
// beside, and returns the descriptor.
func fdPath(path string) (int, bool) {
	switch p := filepath.Clean(path); p {
	case "/dev/stdout":
		return 1, true
	case "/dev/stderr":
		return 2, true
	default:
		for _, dir := range []string{"/dev/fd/", "/proc/self/fd/"} {
			if n, ok := strings.CutPrefix(p, dir); ok {
				fd, err := strconv.Atoi(n)
				return fd, err == nil && fd >= 0
			}
		}
	}
	return 0, false
}

// keepMode gives the temporary file the permissions (and, for root, the
// owner) of the file it replaces: a 0600 file stays 0600.
func keepMode(tmp *os.File, existing os.FileInfo) error {
	if err := tmp.Chmod(existing.Mode().Perm()); err != nil {
		return err
	}
	return chownLike(tmp, existing)
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
	if o.tmpDir != "" {
		return o.commitDir()
	}
	err := o.fw.Close()
	if ferr := o.buf.Flush(); err == nil {
		err = ferr
	}
	for _, f := range []*os.File{o.inPlace, o.direct} {
		if f == nil {
			continue
		}
		if err == nil && f == o.inPlace {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
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
	}
	o.temps.remove(o.tmp.Name())
	if err != nil {
		return fmt.Errorf("write %s: %w", o.path, err)
	}
	return nil
}

// commitDir completes a directory output and renames it into place (over
// an empty directory of that name).
func (o *output) commitDir() error {
	err := o.fw.Close()
	if err == nil {
		if rerr := os.Remove(o.path); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			err = rerr
		}
	}
	if err == nil {
		err = os.Rename(o.tmpDir, o.path)
	}
	if err != nil {
		os.RemoveAll(o.tmpDir)
	}
	o.temps.remove(o.tmpDir)
	if err != nil {
		return fmt.Errorf("write %s: %w", o.path, err)
	}
	return nil
}

// abortSink drops what a stacparquet writer spooled.
func (o *output) abortSink() {
	if ps, ok := o.fw.(*parquetSink); ok {
		ps.w.Abort()
	}
	if o.tmpDir != "" {
		os.RemoveAll(o.tmpDir)
		o.temps.remove(o.tmpDir)
	}
}

// Discard ends an output to which nothing was written, because the
// command failed before it started (the API could not be opened): stdout
// gets nothing at all, a file's temporary is removed.
func (o *output) Discard() {
	o.abortSink()
	if o.direct != nil {
		o.direct.Close()
	}
	if o.tmp != nil {
		o.tmp.Close()
		os.Remove(o.tmp.Name())
		o.temps.remove(o.tmp.Name())
	}
}

// Abort ends a failed run: stdout or a device still gets a complete
// document (closing brackets) when a feature was written, and nothing
// otherwise; a file's temporary is removed and the requested name is
// left untouched.
func (o *output) Abort() {
	if _, ok := o.fw.(*parquetSink); ok {
		o.abortSink()
		if o.tmp != nil {
			o.tmp.Close()
			os.Remove(o.tmp.Name())
			o.temps.remove(o.tmp.Name())
		}
		return
	}
	switch {
	case o.inPlace != nil:
		o.buf.Flush()
		o.inPlace.Close()
	case o.tmp != nil:
		o.tmp.Close()
		os.Remove(o.tmp.Name())
		o.temps.remove(o.tmp.Name())
	default:
		if o.count > 0 {
			o.fw.Close()
			o.buf.Flush()
		}
		if o.direct != nil {
			o.direct.Close()
		}
	}
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
	return &capReader{r: io.LimitReader(r, n+1), left: n, limit: n}
}

type capReader struct {
	r           io.Reader
	left, limit int64
}

func (c *capReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.left -= int64(n); c.left < 0 {
		return n, fmt.Errorf("larger than %s, the most read", (*byteSize)(&c.limit))
	}
	return n, err
}
