//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package auth

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// lockFile takes an exclusive lock on path (made if missing, with its
// directory), waiting until it is free or ctx ends. The lock is released
// by the returned function, or when the process exits.
func lockFile(ctx context.Context, path string) (unlock func(), err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err != nil || checkOwned(fi, false) != nil {
		f.Close()
		if err == nil {
			err = checkOwned(fi, false)
		}
		return nil, fmt.Errorf("lock file: %w", err)
	}
	done := make(chan error, 1)
	go func() {
		for {
			err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
			if !errors.Is(err, syscall.EINTR) {
				done <- err
				return
			}
		}
	}()
	select {
	case err := <-done:
		if err != nil {
			f.Close()
			return nil, err
		}
		return func() { f.Close() }, nil // closing the last descriptor releases the lock
	case <-ctx.Done():
		// The goroutine still waits for the lock; when it gets it, the
		// file is closed and the lock given up.
		go func() { <-done; f.Close() }()
		return nil, ctx.Err()
	}
}

// checkOwned refuses a file or directory that is not the user's, or that
// other users may write to.
func checkOwned(fi fs.FileInfo, dir bool) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("owned by uid %d, not by you (uid %d); refusing it", st.Uid, os.Geteuid())
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("writable by group or others (mode %04o); refusing it", fi.Mode().Perm())
	}
	if dir && !fi.IsDir() {
		return errors.New("not a directory")
	}
	return nil
}
