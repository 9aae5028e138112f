package download

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json"

	"github.com/stacq/stacq/retry"
)

// copyBuffer is the size of each read from the network and write to disk.
const copyBuffer = 1 << 20

// Object is a file's bytes from an offset, as a server sent them.
type Object struct {
	Body io.ReadCloser
	// Offset is where Body starts in the file: the offset asked for, or
	// 0 when the server sends the whole file instead (it ignored the
	// range, or the file changed since the validator was taken).
	Offset int64
	// Size is the whole file's size, -1 when unknown.
	Size int64
	// Validator identifies this version of the file (a strong ETag, else
	// the Last-Modified date), "" when the server gave none: without one
	// a cut transfer starts again rather than resume.
	Validator string
}

// ObjectGetter fetches the objects of s3:// hrefs (the s3 subpackage has
// one over the AWS SDK). GetObject returns the object's bytes from offset
// on; when validator is set and the object's ETag no longer matches it,
// the whole object comes instead, with Offset 0.
type ObjectGetter interface {
	GetObject(ctx context.Context, bucket, key string, offset int64, validator string) (*Object, error)
}

// errNoS3 is the failure of an s3:// href without Options.S3.
var errNoS3 = errors.New("s3:// hrefs need an S3 client, and none is configured (Options.S3)")

// partMeta is kept beside a .part file, as NAME.part.meta, so that a later
// run can resume it with If-Range: which version of the file it holds.
type partMeta struct {
	Validator string `json:"validator"`
	Size      int64  `json:"size"`
}

// transfer downloads one asset, or finds it already on disk.
func (d *Downloader) transfer(ctx context.Context, j *job) *Result {
	res := j.result(Downloaded, nil)
	var err error
	skip := false
	if !d.opts.Overwrite {
		skip, err = d.onDisk(ctx, j, res)
	}
	switch {
	case err != nil:
	case skip:
		res.Status = Skipped
		return res
	default:
		err = d.fetch(ctx, j, res)
	}
	if err != nil {
		res.Status, res.Err = Failed, err
		if ctx.Err() != nil {
			res.Status, res.Err = Interrupted, ctx.Err()
		}
	}
	return res
}

// onDisk reports whether j's file is already complete at its destination.
func (d *Downloader) onDisk(ctx context.Context, j *job, res *Result) (bool, error) {
	st, err := os.Stat(j.dest)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("check %s: %w", j.dest, err)
	}
	if !st.Mode().IsRegular() {
		return false, fmt.Errorf("%s exists and is not a file: move it away or use another layout", j.dest)
	}
	if want := j.exp.size; want >= 0 && st.Size() != want {
		res.Notes = append(res.Notes, fmt.Sprintf("the file on disk had %d bytes, the item says %d: downloaded again", st.Size(), want))
		return false, nil
	}
	if c := j.exp.checksum; c != nil {
		if h := c.New(); h != nil {
			if err := hashFile(ctx, j.dest, st.Size(), h); err != nil {
				return false, err
			}
			if !c.Matches(h.Sum(nil)) {
				res.Notes = append(res.Notes, "the file on disk did not match file:checksum: downloaded again")
				return false, nil
			}
			res.Verified = c.Name()
		}
	}
	if res.Verified == "" && j.exp.size >= 0 {
		res.Verified = "file:size"
	}
	res.Size = st.Size()
	return true, nil
}

// hashFile feeds the first n bytes of the file at path to h, stopping
// when ctx ends.
func hashFile(ctx context.Context, path string, n int64, h hash.Hash) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("verify %s: %w", path, err)
	}
	defer f.Close()
	buf := make([]byte, copyBuffer)
	for left := n; left > 0; {
		if err := ctx.Err(); err != nil {
			return err
		}
		m, err := io.ReadFull(f, buf[:min(left, int64(len(buf)))])
		h.Write(buf[:m])
		left -= int64(m)
		if err != nil {
			return fmt.Errorf("verify %s: %w", path, err)
		}
	}
	return nil
}

// fileTransfer is the state of one file's download across attempts.
type fileTransfer struct {
	d    *Downloader
	j    *job
	res  *Result
	part string
	meta partMeta
	// hash, when the item has a checksum stacq implements, has seen the
	// first hashed bytes of the .part file.
	hash   hash.Hash
	hashed int64
	size   int64 // bytes in the .part file
	// signed is the href after signing; renewed says the signer was
	// asked for a new signature already.
	signed  string
	renewed bool
}

func (d *Downloader) fetch(ctx context.Context, j *job, res *Result) error {
	if err := os.MkdirAll(filepath.Dir(j.dest), 0o777); err != nil {
		return fmt.Errorf("create the directory of %s: %w", j.dest, err)
	}
	t := &fileTransfer{d: d, j: j, res: res, part: j.dest + ".part"}
	if c := j.exp.checksum; c != nil {
		t.hash = c.New()
	}
	if d.opts.Overwrite {
		os.Remove(t.part)
		t.dropMeta()
	} else {
		t.loadMeta()
	}
	for {
		before := res.Bytes
		err := d.opts.Retry.Do(ctx, t.attempt)
		if err == nil {
			break
		}
		// Attempts that made progress do not use up the budget: a server
		// that cuts every transfer still gets the file through.
		if ctx.Err() != nil || res.Bytes == before || d.opts.Retry.MaxAttempts == 1 || !worthAnotherRound(err) {
			return err
		}
	}
	return t.complete(ctx)
}

// worthAnotherRound reports whether retries ended on a transient failure.
func worthAnotherRound(err error) bool {
	var re *retry.Error
	if errors.As(err, &re) {
		return retry.Retryable(re.Last)
	}
	return retry.Retryable(err)
}

// attempt makes one request for the rest of the file and writes it.
func (t *fileTransfer) attempt(ctx context.Context, _ int) error {
	var offset int64
	if st, err := os.Stat(t.part); err == nil && st.Mode().IsRegular() {
		offset = st.Size()
	}
	if offset > 0 && t.meta.Validator == "" {
		offset = 0 // nothing tells which version of the file the .part holds
	}
	obj, err := t.open(ctx, offset, t.meta.Validator)
	if err != nil {
		return err
	}
	defer obj.Body.Close()
	switch {
	case obj.Offset != offset:
		if offset > 0 {
			t.res.Restarts++
		}
		offset = 0
	case offset > 0:
		t.res.Resumed = true
	}
	if want := t.j.exp.size; want >= 0 && obj.Size >= 0 && obj.Size != want {
		return &VerifyError{What: "file:size", Want: strconv.FormatInt(want, 10),
			Got: strconv.FormatInt(obj.Size, 10) + " (announced by the server)"}
	}
	if m := (partMeta{Validator: obj.Validator, Size: obj.Size}); m != t.meta {
		t.meta = m
		t.saveMeta()
	}

	f, err := os.OpenFile(t.part, os.O_WRONLY|os.O_CREATE, 0o666)
	if err != nil {
		return fmt.Errorf("create %s: %w", t.part, err)
	}
	defer f.Close()
	if err := f.Truncate(offset); err != nil {
		return fmt.Errorf("write %s: %w", t.part, err)
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return fmt.Errorf("write %s: %w", t.part, err)
	}
	if t.hash != nil && t.hashed != offset {
		// The .part file comes from an earlier run, or was restarted.
		t.hash.Reset()
		t.hashed = 0
		if err := hashFile(ctx, t.part, offset, t.hash); err != nil {
			return err
		}
		t.hashed = offset
	}
	t.size = offset
	t.d.emit(Event{Kind: FileStarted, Item: t.res.Item, Asset: t.res.Asset, Path: t.j.dest, Done: offset, Total: obj.Size})

	bufp := t.d.buffer()
	defer t.d.bufs.Put(bufp)
	buf := *bufp
	for {
		n, rerr := obj.Body.Read(buf)
		if n > 0 {
			if _, err := f.Write(buf[:n]); err != nil {
				return fmt.Errorf("write %s: %w", t.part, err)
			}
			if t.hash != nil {
				t.hash.Write(buf[:n])
				t.hashed += int64(n)
			}
			t.size += int64(n)
			t.res.Bytes += int64(n)
			t.d.emit(Event{Kind: FileProgress, Item: t.res.Item, Asset: t.res.Asset, Path: t.j.dest, Done: t.size, Total: obj.Size})
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return fmt.Errorf("%s: cut after %d bytes: %w", t.res.Href, t.size, rerr)
		}
	}
	if obj.Size >= 0 && t.size != obj.Size {
		return fmt.Errorf("%s: %d of %d bytes received: %w", t.res.Href, t.size, obj.Size, io.ErrUnexpectedEOF)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", t.part, err)
	}
	return f.Close()
}

// open requests the file from offset: s3:// from the ObjectGetter, http(s)
// signed by the Signer (once more with a new signature after a 403).
func (t *fileTransfer) open(ctx context.Context, offset int64, validator string) (*Object, error) {
	href := t.j.href
	if strings.HasPrefix(href, "s3://") {
		if t.d.opts.S3 == nil {
			return nil, errNoS3
		}
		bucket, key, _ := strings.Cut(strings.TrimPrefix(href, "s3://"), "/")
		return t.d.opts.S3.GetObject(ctx, bucket, key, offset, validator)
	}
	item := t.j.it.item
	if t.signed == "" {
		t.signed = href
		if s := t.d.opts.Signer; s != nil {
			signed, err := s.Sign(ctx, item, href)
			if err != nil {
				return nil, err
			}
			t.signed = signed
		}
	}
	obj, err := t.d.get(ctx, t.signed, offset, validator)
	var he *HTTPError
	if t.signed == href || t.renewed || !errors.As(err, &he) || he.StatusCode != 403 {
		return obj, err
	}
	rn, ok := t.d.opts.Signer.(Renewer)
	if !ok {
		return obj, err
	}
	t.renewed = true
	signed, rerr := rn.Renew(ctx, item, href, t.signed)
	if rerr != nil {
		return nil, fmt.Errorf("%w; renewing the signature: %w", err, rerr)
	}
	t.signed = signed
	obj, err = t.d.get(ctx, t.signed, offset, validator)
	if errors.As(err, &he) && he.StatusCode == 403 {
		he.Hint = "refused with a new signature too"
	}
	return obj, err
}

// complete verifies the finished .part file and renames it into place.
func (t *fileTransfer) complete(ctx context.Context) error {
	exp := t.j.exp
	t.res.Size = t.size
	if exp.size >= 0 && t.size != exp.size {
		t.dropMeta()
		return &VerifyError{Path: t.part, What: "file:size", Want: strconv.FormatInt(exp.size, 10), Got: strconv.FormatInt(t.size, 10)}
	}
	if c := exp.checksum; c != nil && t.hash != nil {
		if t.hashed != t.size {
			t.hash.Reset()
			if err := hashFile(ctx, t.part, t.size, t.hash); err != nil {
				return err
			}
		}
		sum := t.hash.Sum(nil)
		if !c.Matches(sum) {
			t.dropMeta()
			return &VerifyError{Path: t.part, What: "file:checksum (" + c.Name() + ")",
				Want: hex.EncodeToString(c.Digest), Got: hex.EncodeToString(sum[:len(c.Digest)])}
		}
		t.res.Verified = c.Name()
	} else if exp.size >= 0 {
		t.res.Verified = "file:size"
	}
	if err := os.Rename(t.part, t.j.dest); err != nil {
		return fmt.Errorf("move %s into place: %w", t.part, err)
	}
	t.dropMeta()
	return nil
}

func (t *fileTransfer) metaPath() string { return t.part + ".meta" }

// loadMeta reads the .part file's validator; a missing or unreadable one
// is no validator (the transfer then starts again).
func (t *fileTransfer) loadMeta() {
	b, err := os.ReadFile(t.metaPath())
	if err != nil {
		return
	}
	var m partMeta
	if json.Unmarshal(b, &m) == nil {
		t.meta = m
	}
}

// saveMeta writes the validator beside the .part file; failing to is not
// fatal (the next run starts that file again).
func (t *fileTransfer) saveMeta() {
	if t.meta.Validator == "" {
		t.dropMeta()
		return
	}
	b, err := json.Marshal(t.meta)
	if err == nil {
		err = os.WriteFile(t.metaPath(), b, 0o666)
	}
	if err != nil {
		t.res.Notes = append(t.res.Notes, "cannot keep the resume information: "+err.Error())
	}
}

func (t *fileTransfer) dropMeta() { os.Remove(t.metaPath()) }
