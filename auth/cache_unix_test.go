//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package auth

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

func fileOwner(fi fs.FileInfo) int { return int(fi.Sys().(*syscall.Stat_t).Uid) }

// A token file or cache directory not owned by the user, or writable by
// others, is not used (as ssh refuses such keys).
func TestCacheRefusesForeignFiles(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give files to another user")
	}
	const other = 4242
	var logs []string
	var mu sync.Mutex
	logf := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		logs = append(logs, fmt.Sprintf(format, args...))
	}
	p := newProvider(t, "both", "/oauth/token")
	s := p.settings()
	s.Logf = logf
	r := resolve(t, p.APIURL(), s)
	if _, err := r.Token(t.Context()); err != nil {
		t.Fatal(err)
	}
	// Plant: the file now belongs to another user.
	if err := os.Chown(r.CacheFile, other, other); err != nil {
		t.Fatal(err)
	}
	if _, err := resolve(t, p.APIURL(), s).Token(t.Context()); err != nil {
		t.Fatal(err)
	}
	wantCount(t, "token requests with a planted file", &p.TokenReqs, 2)
	if fi, _ := os.Stat(r.CacheFile); fi == nil || fileOwner(fi) != os.Geteuid() {
		t.Error("the planted file was not replaced by the user's own")
	}
	// A directory of another user: the cache is not used at all.
	dir := filepath.Dir(r.CacheFile)
	if err := os.Chown(dir, other, other); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := resolve(t, p.APIURL(), s).Token(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	wantCount(t, "token requests with a foreign directory", &p.TokenReqs, 4)
	// A group-writable directory of the user's: refused too.
	os.Chown(dir, os.Geteuid(), os.Getegid())
	os.Chmod(dir, 0o770)
	if _, err := resolve(t, p.APIURL(), s).Token(t.Context()); err != nil {
		t.Fatal(err)
	}
	wantCount(t, "token requests with a group-writable directory", &p.TokenReqs, 5)
	all := strings.Join(logs, "\n")
	for _, want := range []string{"owned by uid 4242, not by you", "writable by group or others (mode 0770)"} {
		if !strings.Contains(all, want) {
			t.Errorf("logs lack %q:\n%s", want, all)
		}
	}
}
