package download

import (
	"fmt"
	"maps"
	"net/url"
	"path/filepath"
	"slices"
	"strings"

	"github.com/stacq/stacq/stac"
)

// run is the bookkeeping of one Run, owned by its loop goroutine.
type run struct {
	d        *Downloader
	sum      *Summary
	pending  []*job
	active   int
	perHost  map[string]int
	dests    map[string]*destEntry
	itemsErr error
}

// destEntry is the first asset given a destination.
type destEntry struct {
	href   string
	first  *job
	result *Result // once it finished
}

// plan selects an item's assets and works out where each comes from and
// goes. Problems become failed jobs, reported like any other failure.
func (d *Downloader) plan(item *stac.Item) *itemState {
	st := &itemState{item: item, files: map[string]string{}}
	for _, key := range slices.Sorted(maps.Keys(item.Assets)) {
		a := item.Assets[key]
		if !d.opts.Select.Match(key, a) {
			continue
		}
		j := &job{it: st, key: key, asset: a, exp: expect(a)}
		st.jobs = append(st.jobs, j)
		href, _, err := d.opts.Select.Href(a)
		if err == nil {
			href, err = resolveHref(item, href)
		}
		if err == nil {
			j.rel, err = d.layout.Path(item, key, a, href)
		}
		if err != nil {
			j.failed = err
			continue
		}
		j.href = href
		j.dest = filepath.Join(d.dir, filepath.FromSlash(j.rel))
		j.host = hostKey(href)
	}
	st.left = len(st.jobs)
	return st
}

// resolveHref returns href made absolute against the item's self link
// when it is relative, and checks it is one the downloader fetches.
func resolveHref(item *stac.Item, href string) (string, error) {
	u, err := url.Parse(href)
	if err != nil {
		return "", fmt.Errorf("href %s is not a URL", redactedHref(href))
	}
	if !u.IsAbs() {
		self := stac.FindLink(item.Links, "self")
		var base *url.URL
		if self != nil {
			base, _ = url.Parse(self.Href)
		}
		if base == nil || !base.IsAbs() {
			return "", fmt.Errorf("href %s is relative and the item has no absolute self link to resolve it against", redactedHref(href))
		}
		u = base.ResolveReference(u)
		href = u.String()
	}
	switch u.Scheme {
	case "http", "https":
		if u.Host == "" {
			return "", fmt.Errorf("href %s has no host", redactedHref(href))
		}
	case "s3":
		if u.Host == "" || strings.Trim(u.Path, "/") == "" {
			return "", fmt.Errorf("href %s is not s3://BUCKET/KEY", redactedHref(href))
		}
	default:
		return "", fmt.Errorf("href %s: %s URLs are not downloaded (only http, https and s3)", redactedHref(href), u.Scheme)
	}
	return href, nil
}

// hostKey is what the per-host limit counts: the host, or the bucket.
func hostKey(href string) string {
	u, err := url.Parse(href)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Scheme + "://" + u.Host)
}

// accept queues the assets of a planned item.
func (r *run) accept(st *itemState) {
	if len(st.jobs) == 0 {
		r.itemDone(st)
		return
	}
	for _, j := range st.jobs {
		if j.failed != nil {
			r.record(j.result(Failed, j.failed))
			continue
		}
		e, ok := r.dests[j.dest]
		switch {
		case !ok:
			r.dests[j.dest] = &destEntry{href: j.href, first: j}
			r.pending = append(r.pending, j)
		case e.href != j.href:
			r.record(j.result(Failed, &ConflictError{Path: j.dest, Other: e.first.it.item.ID + "/" + e.first.key}))
		case e.result != nil:
			r.record(j.same(e.first, e.result))
		default:
			e.first.dups = append(e.first.dups, j)
		}
	}
}

// finish records a transfer's result, and those of the assets that
// share its file.
func (r *run) finish(res *Result) {
	j := res.job
	if e := r.dests[j.dest]; e != nil && e.first == j {
		e.result = res
	}
	r.record(res)
	for _, dup := range j.dups {
		r.record(dup.same(j, res))
	}
	j.dups = nil
}

// result is a bare result of j.
func (j *job) result(s Status, err error) *Result {
	it := j.it.item
	return &Result{Item: it.ID, Collection: it.Collection, Asset: j.key, Href: redactedHref(j.href),
		Path: j.dest, Status: s, Size: -1, Err: err, Notes: slices.Clone(j.exp.notes), job: j}
}

// same is j's result when it has the same file as first, which ended
// with res.
func (j *job) same(first *job, res *Result) *Result {
	out := *res
	it := j.it.item
	out.Item, out.Collection, out.Asset, out.job = it.ID, it.Collection, j.key, j
	out.Bytes, out.Resumed, out.Restarts = 0, false, 0
	if res.Status == Downloaded || res.Status == Skipped {
		out.Status = Skipped
		out.Notes = append(slices.Clip(res.Notes), "same file as "+first.it.item.ID+"/"+first.key)
	}
	return &out
}

// record adds res to the summary and to its item's account.
func (r *run) record(res *Result) {
	s := r.sum
	s.Results = append(s.Results, res)
	s.Bytes += res.Bytes
	switch res.Status {
	case Downloaded:
		s.Downloaded++
	case Skipped:
		s.Skipped++
	case Failed:
		s.Failed++
	case Interrupted:
		s.Interrupted++
	}
	r.d.emit(Event{Kind: FileDone, Item: res.Item, Asset: res.Asset, Path: res.Path, Done: res.Size, Total: res.Size, Result: res})
	st := res.job.it
	switch res.Status {
	case Downloaded, Skipped:
		st.files[res.Asset] = res.Path
	case Interrupted:
		st.interrupted = true
	}
	if st.left--; st.left == 0 {
		r.itemDone(st)
	}
}

// itemDone writes a finished item to ItemsOut, its files' hrefs made
// relative to ItemsDir. Items with interrupted assets are not written.
func (r *run) itemDone(st *itemState) {
	if r.d.opts.ItemsOut == nil || r.itemsErr != nil || st.interrupted {
		return
	}
	hrefs := make(map[string]string, len(st.files))
	for key, p := range st.files {
		hrefs[key] = localHref(r.d.items, p)
	}
	if err := r.d.opts.ItemsOut(copyWithHrefs(st.item, hrefs)); err != nil {
		r.itemsErr = err
	}
}

// localHref is the relative URL of file p from directory dir (an
// absolute file path where no relative one exists, as across Windows
// volumes).
func localHref(dir, p string) string {
	rel, err := filepath.Rel(dir, p)
	if err != nil {
		return (&url.URL{Scheme: "file", Path: filepath.ToSlash(p)}).String()
	}
	return (&url.URL{Path: filepath.ToSlash(rel)}).String()
}

func (d *Downloader) emit(e Event) {
	if d.opts.Progress != nil {
		d.opts.Progress(e)
	}
}
