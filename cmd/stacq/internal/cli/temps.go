package cli

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// processStart is when this process started, near enough: a temporary
// file modified since may be another run's, just created.
var processStart = time.Now()

// tempFiles are the temporary outputs of one Run, removed when it returns
// however it returns (an error path that forgot one, a panic).
type tempFiles struct {
	mu    sync.Mutex
	names map[string]bool
}

func (t *tempFiles) add(name string) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.names == nil {
		t.names = map[string]bool{}
	}
	t.names[name] = true
}

func (t *tempFiles) remove(name string) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.names, name)
}

// removeAll removes the temporary files still registered.
func (t *tempFiles) removeAll() {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for name := range t.names {
		os.RemoveAll(name) // a file, or a partitioned dataset's directory
	}
	t.names = nil
}

// removeStaleTemps removes the temporary files of earlier runs writing
// dir/base that were killed (SIGKILL, a crash, power loss) before they
// could remove them: files named .BASE.*.partial, last modified before
// this process started, that no running process holds locked (every run
// locks its temporary file; the kernel releases the lock when a process
// dies, however it dies). Where files cannot be locked, only those a day
// old are taken as stale. Each removal is said on stderr.
func removeStaleTemps(io IO, dir, base string) {
	entries, err := os.ReadDir(cmp.Or(dir, "."))
	if err != nil {
		return
	}
	prefix := "." + base + "."
	for _, e := range entries {
		name := e.Name()
		mid, ok := strings.CutPrefix(name, prefix)
		if !ok || !e.Type().IsRegular() {
			continue
		}
		if mid, ok = strings.CutSuffix(mid, ".partial"); !ok || !isBase36(mid) {
			continue
		}
		info, err := e.Info()
		if err != nil || !info.ModTime().Before(processStart) {
			continue
		}
		path := filepath.Join(dir, name)
		if removeIfUnlocked(path, info) {
			fmt.Fprintf(io.Stderr, "stacq: removed %s, left by an earlier run that was killed\n", path)
		}
	}
}

func isBase36(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z') {
			return false
		}
	}
	return true
}
