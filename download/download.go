package download

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/stacq/stacq/retry"
	"github.com/stacq/stacq/stac"
)

// DefaultConcurrency is the number of files transferred at once when
// Options.Concurrency is 0.
const DefaultConcurrency = 4

// Options configure a Downloader.
type Options struct {
	// Dir is the download directory (required). It is created when absent.
	Dir string
	// Select chooses the assets and their hrefs; the zero value takes
	// every asset by its href.
	Select Selection
	// Layout places the files under Dir; nil is DefaultLayout.
	Layout *Layout
	// Concurrency bounds the files transferred at once (0:
	// DefaultConcurrency); PerHost bounds those from one host, or one
	// bucket for s3:// hrefs (0: no bound but Concurrency).
	Concurrency, PerHost int
	// Overwrite downloads every file again, even one already complete at
	// its destination, and ignores .part files.
	Overwrite bool
	// Router picks the HTTP client of each URL; nil fetches everything
	// with a plain client, without credentials.
	Router *Router
	// Signer, when set, signs each http(s) href before it is fetched (and
	// again after a 403 when it is a Renewer).
	Signer Signer
	// S3 fetches s3:// hrefs; nil makes them fail with an error saying so.
	S3 ObjectGetter
	// Retry is the policy for each file's transfer; a cut transfer is
	// resumed where it stopped, and an attempt that made progress renews
	// the budget. The zero value uses retry's defaults.
	Retry retry.Policy
	// Progress, when set, is told of each file's start, progress and end.
	// It is called from the transferring goroutines: it must be safe for
	// concurrent use, and quick.
	Progress func(Event)
	// ItemsOut, when set, receives each item once all its selected assets
	// are done, with the href of every asset whose file is on disk
	// rewritten to the file's path relative to ItemsDir; everything else
	// of the item is as it was decoded. Items come in the order they
	// complete. It is called from one goroutine at a time.
	ItemsOut func(*stac.Item) error
	// ItemsDir is the directory the rewritten hrefs are relative to
	// (where the items file is written); "" is Dir.
	ItemsDir string
	// UserAgent is sent with each HTTP request; "" is "stacq".
	UserAgent string
}

// Downloader downloads the assets of STAC items. Make one with New; Run
// may be called more than once, not concurrently.
type Downloader struct {
	opts   Options
	layout *Layout
	router *Router
	dir    string    // Dir, absolute
	items  string    // ItemsDir, absolute
	bufs   sync.Pool // *[]byte of copyBuffer bytes
}

func (d *Downloader) buffer() *[]byte {
	if b, ok := d.bufs.Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, copyBuffer)
	return &b
}

// New checks opts and returns a Downloader.
func New(opts Options) (*Downloader, error) {
	if opts.Dir == "" {
		return nil, errors.New("download: no directory given")
	}
	if err := opts.Select.Check(); err != nil {
		return nil, fmt.Errorf("download: %w", err)
	}
	if opts.Concurrency < 0 || opts.PerHost < 0 {
		return nil, fmt.Errorf("download: concurrency %d and per-host %d must be 0 (default) or more", opts.Concurrency, opts.PerHost)
	}
	if opts.Concurrency == 0 {
		opts.Concurrency = DefaultConcurrency
	}
	if opts.PerHost == 0 || opts.PerHost > opts.Concurrency {
		opts.PerHost = opts.Concurrency
	}
	if opts.UserAgent == "" {
		opts.UserAgent = "stacq"
	}
	d := &Downloader{opts: opts, layout: opts.Layout, router: opts.Router}
	if d.layout == nil {
		d.layout, _ = ParseLayout(DefaultLayout)
	}
	if d.router == nil {
		d.router = NewRouter(nil)
	}
	var err error
	if d.dir, err = filepath.Abs(opts.Dir); err != nil {
		return nil, fmt.Errorf("download: directory %s: %w", opts.Dir, err)
	}
	d.items = d.dir
	if opts.ItemsDir != "" {
		if d.items, err = filepath.Abs(opts.ItemsDir); err != nil {
			return nil, fmt.Errorf("download: items directory %s: %w", opts.ItemsDir, err)
		}
	}
	return d, nil
}

// Status is how an asset's download ended.
type Status int

// The statuses of a Result.
const (
	// Downloaded: transferred (whole or the rest of a .part), verified
	// as far as the item allows, and renamed into place.
	Downloaded Status = iota + 1
	// Skipped: already complete at its destination (see Run), or the same
	// file as another asset's; no request was made.
	Skipped
	// Failed: see Result.Err. A partial or unverified download stays in
	// its .part file.
	Failed
	// Interrupted: the context ended; the .part file is kept for the
	// next run to resume.
	Interrupted
)

// String returns the status in lower case ("downloaded").
func (s Status) String() string {
	switch s {
	case Downloaded:
		return "downloaded"
	case Skipped:
		return "skipped"
	case Failed:
		return "failed"
	case Interrupted:
		return "interrupted"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// Result is the outcome for one asset.
type Result struct {
	Item, Collection, Asset string
	// Href is the URL fetched (an alternate's, when used), with
	// credentials masked.
	Href string
	// Path is the destination file.
	Path   string
	Status Status
	// Size is the file's size when it is on disk, else -1.
	Size int64
	// Bytes counts the bytes transferred in this run.
	Bytes int64
	// Resumed says a .part file was continued; Restarts counts the times
	// the server sent the whole file instead of the rest of it.
	Resumed  bool
	Restarts int
	// Verified names what the file was checked against: a hash function
	// ("sha2-256", from file:checksum) or "file:size"; "" when the item
	// gives neither (the size the server announced is still checked).
	Verified string
	// Notes explain what was not verified, or why a file on disk was
	// fetched again.
	Notes []string
	Err   error

	job *job
}

// Event reports a file's progress to Options.Progress.
type Event struct {
	Kind        EventKind
	Item, Asset string
	Path        string
	// Done is the number of bytes of the file on disk (a resumed file
	// starts above 0; a restarted one drops back to 0); Total is its
	// size, -1 when unknown.
	Done, Total int64
	// Result is set for FileDone.
	Result *Result
}

// EventKind tells Events apart.
type EventKind int

// The kinds of Event.
const (
	// FileStarted: the server answered; Total is known when it said.
	FileStarted EventKind = iota + 1
	// FileProgress: more bytes were written.
	FileProgress
	// FileDone: the asset is finished, whatever its Result says
	// (skipped files get only this event).
	FileDone
)

// Summary is what a Run did.
type Summary struct {
	// Items counts the items read.
	Items int
	// Results holds one Result per selected asset started, in the order
	// they finished.
	Results                                  []*Result
	Downloaded, Skipped, Failed, Interrupted int
	// Bytes counts the bytes transferred.
	Bytes   int64
	Elapsed time.Duration
}

// FailedResults returns the results of the assets that failed.
func (s *Summary) FailedResults() []*Result {
	var out []*Result
	for _, r := range s.Results {
		if r.Status == Failed {
			out = append(out, r)
		}
	}
	return out
}

// job is one asset to download.
type job struct {
	it    *itemState
	key   string
	asset *stac.Asset
	href  string // absolute, unsigned
	rel   string // destination relative to Dir, slash-separated
	dest  string // destination path
	exp   expected
	host  string
	// failed is set when planning already failed (bad href, layout).
	failed error
	// dups are assets with the same destination and href: they share
	// this one's result.
	dups []*job
}

// itemState follows one item's assets to the end.
type itemState struct {
	item  *stac.Item
	jobs  []*job
	left  int
	files map[string]string // asset key → destination, for ItemsOut
	// interrupted: an asset was cut by the end of the context.
	interrupted bool
}

// Run downloads the selected assets of every item from items, and returns
// what happened to each. Up to Concurrency files are transferred at once
// (PerHost from one host), while items keep being read, a few ahead.
//
// Each file is written to NAME.part and renamed to NAME only once it is
// complete and matches its item's file:size and file:checksum. A cut
// transfer is resumed from the .part file with a Range request whose
// If-Range carries the ETag (or Last-Modified) the server first sent, also
// in a later run: it is kept in NAME.part.meta. A server that ignores the
// Range, or whose file changed, sends it whole, and it starts again.
//
// A file already at its destination is skipped without any request when
// it matches the item's file:checksum (hashed locally) or, with no
// checksum, its file:size; when the item gives neither it is skipped as
// well, since only complete transfers are renamed into place. A file that
// does not match is downloaded again. Overwrite downloads everything.
//
// Run returns ctx's error when it ends (the .part files of the
// interrupted transfers are kept), a *FailedError when assets failed,
// and the items iterator's error, wrapped, when reading items failed
// (joined with a *FailedError when both happened). The Summary is never
// nil.
func (d *Downloader) Run(ctx context.Context, items iter.Seq2[*stac.Item, error]) (*Summary, error) {
	start := time.Now()
	sum := &Summary{}
	if err := os.MkdirAll(d.dir, 0o777); err != nil {
		return sum, fmt.Errorf("download: create the directory: %w", err)
	}
	pctx, stopReading := context.WithCancel(ctx)
	defer stopReading()
	planned := make(chan *itemState)
	var readErr error
	go func() {
		defer close(planned)
		for item, err := range items {
			if err != nil {
				readErr = err
				return
			}
			if item == nil {
				continue
			}
			select {
			case planned <- d.plan(item):
			case <-pctx.Done():
				return
			}
		}
	}()

	r := &run{d: d, sum: sum, dests: map[string]*destEntry{}, perHost: map[string]int{}}
	done := make(chan *Result)
	window := 4 * d.opts.Concurrency
	ctxDone := ctx.Done()
	in := planned
	for {
		if ctx.Err() == nil {
			r.pending = slices.DeleteFunc(r.pending, func(j *job) bool {
				if r.active >= d.opts.Concurrency || r.perHost[j.host] >= d.opts.PerHost {
					return false
				}
				r.active++
				r.perHost[j.host]++
				go func() { done <- d.transfer(ctx, j) }()
				return true
			})
		}
		if r.active == 0 && (ctx.Err() != nil || in == nil && len(r.pending) == 0) {
			break
		}
		recv := in
		if len(r.pending) >= window || ctx.Err() != nil {
			recv = nil
		}
		select {
		case st, ok := <-recv:
			if !ok {
				in = nil
				continue
			}
			sum.Items++
			r.accept(st)
		case res := <-done:
			r.active--
			r.perHost[res.job.host]--
			r.finish(res)
		case <-ctxDone:
			ctxDone = nil
		}
	}
	sum.Elapsed = time.Since(start)
	if ctx.Err() != nil {
		// The reader stops at its next item; an iterator blocked on a read
		// (a terminal on stdin) must not hold up the interrupt.
		return sum, ctx.Err()
	}
	var errs []error
	if readErr != nil {
		errs = append(errs, fmt.Errorf("reading items: %w", readErr))
	}
	if r.itemsErr != nil {
		errs = append(errs, fmt.Errorf("writing items: %w", r.itemsErr))
	}
	if failed := sum.FailedResults(); len(failed) > 0 {
		errs = append(errs, &FailedError{Failed: failed})
	}
	return sum, errors.Join(errs...)
}
