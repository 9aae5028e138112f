package crawl

import (
	"cmp"
	"context"
	"errors"
	"maps"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/stacq/stacq/retry"
	"github.com/stacq/stacq/stac"
)

// A crawl is a queue of tasks worked off by a fixed pool of workers. A task
// fetches one static document, or lists an API's collections, or pages
// through one collection's items; what it discovers becomes new tasks.
// Workers hand new tasks to one coordinator goroutine, which owns the queue
// and knows when nothing is queued or running any more. Resources go to the
// consumer through one unbuffered channel, so the consumer's pace throttles
// the crawl.

type taskKind int

const (
	taskRoot     taskKind = iota // decide between API and static walk
	taskDoc                      // fetch one static document
	taskAPIItems                 // page through one API collection's items
)

type task struct {
	kind   taskKind
	loc    location
	parent string
	// linkKind is what the link promised: KindItem for "item" links,
	// KindUnknown for "child" links; it names the kind in errors.
	linkKind Kind
	// group is the collection the document is in, for the collection
	// limits; nil outside any collection.
	group *group
	// apiCollection is the collection whose items a taskAPIItems pages.
	apiCollection *stac.Collection
	apiURL        string
}

// group counts the items yielded for one collection.
type group struct {
	key   string
	count int // guarded by run.mu
}

// discovery is a worker's message to the coordinator: new tasks, and
// whether the worker's current task is done.
type discovery struct {
	tasks []task
	done  bool
}

type run struct {
	opts   Options
	filter *filter
	hc     *http.Client
	out    chan<- []result // a page of items at a time, or one resource
	found  chan discovery

	// iterCtx ends when the consumer stops or the caller cancels; sends to
	// out give up on it. workCtx also ends when MaxItems is reached; all
	// fetching uses it.
	iterCtx  context.Context
	workCtx  context.Context
	stopWork context.CancelFunc

	api *stac.Client // set by the root task when root is an API
	// pageSize is the page size asked of the API, lowered when it refuses
	// one.
	pageSize atomic.Int64

	// resume is a copy of Options.Resume, taken when the crawl starts: the
	// caller may go on recording into its State meanwhile.
	resume *State

	mu    sync.Mutex
	seen  map[string]bool
	total int
}

func newRun(opts Options, f *filter, out chan<- []result) *run {
	hc := opts.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	if p, ok := retry.PolicyOf(hc.Transport); ok && opts.Retry == nil {
		opts.Retry = &p // the transport's retries, for whole documents too
	}
	r := &run{opts: opts, filter: f, hc: hc, out: out, found: make(chan discovery), seen: map[string]bool{}}
	r.pageSize.Store(int64(cmp.Or(opts.PageSize, DefaultPageSize)))
	if opts.Resume != nil {
		r.resume = &State{Done: slices.Clone(opts.Resume.Done), Next: maps.Clone(opts.Resume.Next)}
	}
	return r
}

// run crawls root and closes out when every worker has returned.
func (r *run) run(ctx context.Context, root string) {
	defer close(r.out)
	r.iterCtx = ctx
	r.workCtx, r.stopWork = context.WithCancel(ctx)
	defer r.stopWork()

	loc, err := parseRoot(root)
	if err != nil {
		r.send(result{err: err})
		return
	}
	r.claim(loc.String())

	n := r.opts.Concurrency
	if n <= 0 {
		n = DefaultConcurrency
	}
	work := make(chan task)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for t := range work {
				r.do(t)
				select {
				case r.found <- discovery{done: true}:
				case <-r.workCtx.Done():
				}
			}
		})
	}

	// The coordinator: a FIFO queue, so the walk goes breadth first and
	// a catalog's children are fetched before their own children.
	pending := []task{{kind: taskRoot, loc: loc}}
	running := 0
	for len(pending) > 0 || running > 0 {
		var send chan<- task
		var next task
		if len(pending) > 0 {
			send, next = work, pending[0]
		}
		select {
		case send <- next:
			pending[0] = task{}
			pending = pending[1:]
			running++
		case d := <-r.found:
			pending = append(pending, d.tasks...)
			if d.done {
				running--
			}
		case <-r.workCtx.Done():
			pending = nil
			running = 0
		}
	}
	close(work)
	wg.Wait()
}

// spawn queues new tasks.
func (r *run) spawn(tasks ...task) {
	if len(tasks) == 0 {
		return
	}
	select {
	case r.found <- discovery{tasks: tasks}:
	case <-r.workCtx.Done():
	}
}

// send hands a result to the consumer; false when the consumer is gone.
func (r *run) send(res result) bool { return r.sendAll([]result{res}) }

// sendAll hands a batch (the items of a page) to the iterator at once:
// one channel operation per page, not per item.
func (r *run) sendAll(rs []result) bool {
	select {
	case r.out <- rs:
		return true
	case <-r.iterCtx.Done():
		return false
	}
}

// wait waits for the iterator to be done with a batch sent with done;
// false when the consumer is gone.
func (r *run) wait(done <-chan struct{}) bool {
	select {
	case <-done:
		return true
	case <-r.iterCtx.Done():
		return false
	}
}

// fail reports a resource that could not be crawled, unless the crawl is
// stopping: errors caused by the cancellation itself are noise.
func (r *run) fail(url string, kind Kind, parent string, err error) {
	if r.workCtx.Err() != nil {
		return
	}
	r.send(result{err: &ResourceError{URL: url, Kind: kind, Parent: parent, Err: err}})
}

// claim marks key visited; false when it was visited already.
func (r *run) claim(key string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen[key] {
		return false
	}
	r.seen[key] = true
	return true
}

// crawlFull reports whether the crawl has all the items it may have.
func (r *run) crawlFull() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.opts.MaxItems > 0 && r.total >= r.opts.MaxItems
}

// full reports whether no more items may be yielded for g.
func (r *run) full(g *group) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.opts.MaxItems > 0 && r.total >= r.opts.MaxItems {
		return true
	}
	return g != nil && r.opts.MaxItemsPerCollection > 0 && g.count >= r.opts.MaxItemsPerCollection
}

// reserve takes a slot for one item of g under the limits. Taking the last
// slot of MaxItems stops all fetching; the item itself is still delivered.
func (r *run) reserve(g *group) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.opts.MaxItems > 0 && r.total >= r.opts.MaxItems {
		return false
	}
	if g != nil && r.opts.MaxItemsPerCollection > 0 {
		if g.count >= r.opts.MaxItemsPerCollection {
			return false
		}
		g.count++
	}
	r.total++
	if r.opts.MaxItems > 0 && r.total == r.opts.MaxItems {
		r.stopWork()
	}
	return true
}

// visit runs the Visit hook. It returns false when the resource is to be
// left out, after reporting the hook's error if it was not Skip.
func (r *run) visit(res Resource) bool {
	if r.opts.Visit == nil {
		return true
	}
	err := r.opts.Visit(r.workCtx, res)
	if err == nil {
		return true
	}
	if !errors.Is(err, Skip) {
		r.fail(res.URL, res.Kind, res.Parent, err)
	}
	return false
}

func (r *run) do(t task) {
	switch t.kind {
	case taskRoot:
		r.root(t)
	case taskDoc:
		r.doc(t)
	case taskAPIItems:
		r.apiItems(t)
	}
}

// root opens an http(s) root as an API, unless told not to, and walks it
// statically when it is not one.
func (r *run) root(t task) {
	if t.loc.local() && r.opts.Mode == ModeAPI {
		r.fail(t.loc.String(), KindCatalog, "", errors.New("a STAC API needs an http(s) URL, not a local path"))
		return
	}
	static := func() {
		if r.opts.PageEnds || r.resume != nil {
			r.fail(t.loc.String(), KindCatalog, "", errors.New("a resumable crawl (page ends, resume) needs a STAC API; this is a static catalog"))
			return
		}
		r.doc(task{kind: taskDoc, loc: t.loc})
	}
	if t.loc.local() || r.opts.Mode == ModeStatic {
		static()
		return
	}
	src, err := openAPI(r.workCtx, t.loc.String(), r.hc, r.opts)
	if err != nil {
		if r.opts.Mode == ModeAuto && isNotSTAC(err) {
			static()
			return
		}
		r.fail(t.loc.String(), KindCatalog, "", err)
		return
	}
	r.api = src
	r.apiRoot(t)
}

// doc fetches one static document, yields it and queues its links.
func (r *run) doc(t task) {
	if t.linkKind == KindItem && r.full(t.group) {
		return // the collection has all the items it may have
	}
	var res Resource
	var final location
	err := r.retried(func(ctx context.Context) error {
		body, loc, err := fetch(ctx, r.hc, t.loc, cmp.Or(r.opts.MaxDocumentSize, DefaultMaxDocumentSize))
		if err != nil {
			return err
		}
		final = loc
		res, err = decode(body)
		return err
	})
	if err != nil {
		r.fail(cmp.Or(final.String(), t.loc.String()), t.linkKind, t.parent, err)
		return
	}
	// A redirect may lead to a document reached by another link too.
	if final.String() != t.loc.String() && !r.claim(final.String()) {
		return
	}
	res.URL, res.Parent = final.String(), t.parent

	g := t.group
	switch res.Kind {
	case KindCollection:
		if !r.filter.collection(res.Collection.ID) {
			return
		}
		g = &group{key: res.URL}
	case KindItem:
		if !r.filter.item(res.Item, g != nil) || r.full(g) {
			return
		}
	}
	if !r.visit(res) {
		return
	}
	if res.Kind == KindItem {
		if r.reserve(g) {
			r.send(result{r: res})
		}
		return // an item's links lead back up or to assets
	}
	if !r.send(result{r: res}) {
		return
	}

	var next []task
	for _, l := range res.links() {
		if l == nil || l.Href == "" || (l.Rel != "child" && l.Rel != "item") {
			continue
		}
		loc, err := resolve(final, l.Href)
		if err != nil {
			r.fail(l.Href, linkKind(l.Rel), res.URL, err)
			continue
		}
		if !r.claim(loc.String()) {
			continue
		}
		next = append(next, task{kind: taskDoc, loc: loc, parent: res.URL, linkKind: linkKind(l.Rel), group: g})
	}
	r.spawn(next...)
}

// retried runs f, retried under Options.Retry when it is set.
func (r *run) retried(f func(ctx context.Context) error) error {
	if r.opts.Retry == nil {
		return f(r.workCtx)
	}
	return r.opts.Retry.Do(r.workCtx, func(ctx context.Context, _ int) error { return f(ctx) })
}

func linkKind(rel string) Kind {
	if rel == "item" {
		return KindItem
	}
	return KindUnknown
}
