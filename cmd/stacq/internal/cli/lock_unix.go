//go:build unix

package cli

import (
	"os"
	"syscall"
)

// lockFile locks f for as long as it is open (or the process lives): a
// run starting meanwhile leaves the file alone (removeStaleTemps).
func lockFile(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}

// removeIfUnlocked removes path when no process holds its lock.
func removeIfUnlocked(path string, _ os.FileInfo) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		return false // a live run writes it
	}
	return os.Remove(path) == nil
}

// chownLike gives f the owner and group of the file described by like,
// when the process may (root): a file replaced keeps its owner.
func chownLike(f *os.File, like os.FileInfo) error {
	st, ok := like.Sys().(*syscall.Stat_t)
	if !ok || os.Geteuid() != 0 {
		return nil
	}
	return f.Chown(int(st.Uid), int(st.Gid))
}
