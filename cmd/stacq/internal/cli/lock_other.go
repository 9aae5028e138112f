//go:build !unix

package cli

import (
	"os"
	"time"
)

// lockFile does nothing where there is no flock.
func lockFile(*os.File) error { return nil }

// removeIfUnlocked removes path when it is a day old: without locks, the
// age alone tells a killed run's file from a live one's.
func removeIfUnlocked(path string, info os.FileInfo) bool {
	return time.Since(info.ModTime()) > 24*time.Hour && os.Remove(path) == nil
}

func chownLike(*os.File, os.FileInfo) error { return nil }
