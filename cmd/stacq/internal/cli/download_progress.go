package cli

import (
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/stacq/stacq/download"
)

// downloadProgress draws download's progress on a terminal: one bar per
// active transfer, and a total with the bytes of the files started, the
// rate of this run's transfers and the time elapsed. Off the terminal,
// or with -q, it draws nothing.
type downloadProgress struct {
	p       *mpb.Progress // nil: inactive
	overall *mpb.Bar
	start   time.Time

	mu          sync.Mutex
	files       map[string]*fileBar
	done, total int64 // over the files started: bytes on disk, known sizes
	transferred int64 // bytes received in this run
}

type fileBar struct {
	bar         *mpb.Bar
	done, total int64
}

func startDownloadProgress(io IO, quiet bool) *downloadProgress {
	dp := &downloadProgress{files: map[string]*fileBar{}, start: time.Now()}
	if quiet || !io.StderrIsTerminal {
		return dp
	}
	dp.p = mpb.New(mpb.WithOutput(io.Stderr), mpb.WithWidth(96), mpb.WithRefreshRate(150*time.Millisecond), mpb.WithAutoRefresh())
	dp.overall = dp.p.New(0, mpb.BarStyle(), mpb.BarPriority(math.MaxInt),
		mpb.PrependDecorators(decor.Name("total", decor.WC{W: 32, C: decor.DindentRight}), decor.CountersKibiByte("% .1f / % .1f")),
		mpb.AppendDecorators(decor.Any(dp.rate, decor.WCSyncSpace), decor.Elapsed(decor.ET_STYLE_MMSS, decor.WCSyncSpace)))
	return dp
}

// rate is the overall transfer rate of this run (resumed bytes excluded).
func (dp *downloadProgress) rate(decor.Statistics) string {
	dp.mu.Lock()
	n := dp.transferred
	dp.mu.Unlock()
	secs := time.Since(dp.start).Seconds()
	if secs <= 0 {
		return ""
	}
	return humanBytes(int64(float64(n)/secs)) + "/s"
}

// event is download.Options.Progress.
func (dp *downloadProgress) event(e download.Event) {
	if dp.p == nil {
		return
	}
	dp.mu.Lock()
	defer dp.mu.Unlock()
	fb := dp.files[e.Path]
	switch e.Kind {
	case download.FileStarted:
		if fb == nil {
			fb = &fileBar{bar: dp.p.New(max(e.Total, 0), mpb.BarStyle(), mpb.BarRemoveOnComplete(),
				mpb.PrependDecorators(decor.Name(shortName(e.Item+"/"+e.Asset, 30), decor.WC{W: 32, C: decor.DindentRight})),
				mpb.AppendDecorators(decor.CountersKibiByte("% .1f / % .1f"), decor.Percentage(decor.WCSyncSpace)))}
			dp.files[e.Path] = fb
		}
		dp.add(fb, e.Done, max(e.Total, 0))
	case download.FileProgress:
		if fb != nil {
			dp.transferred += e.Done - fb.done
			dp.add(fb, e.Done, fb.total)
		}
	case download.FileDone:
		if fb == nil {
			return
		}
		delete(dp.files, e.Path)
		if e.Result == nil || e.Result.Status != download.Downloaded {
			dp.add(fb, 0, 0) // out of the total
		}
		fb.bar.Abort(true)
	}
	dp.overall.SetTotal(max(dp.total, dp.done), false)
	dp.overall.SetCurrent(dp.done)
}

// add sets a file's bytes on disk and size, and the totals with them.
func (dp *downloadProgress) add(fb *fileBar, done, total int64) {
	dp.done += done - fb.done
	dp.total += total - fb.total
	fb.done, fb.total = done, total
	if total > 0 {
		fb.bar.SetTotal(total, false)
	}
	fb.bar.SetCurrent(done)
}

// stop completes the drawing.
func (dp *downloadProgress) stop() {
	if dp.p == nil {
		return
	}
	dp.mu.Lock()
	for path, fb := range dp.files {
		fb.bar.Abort(true)
		delete(dp.files, path)
	}
	dp.mu.Unlock()
	dp.overall.SetTotal(-1, true)
	dp.p.Wait()
}

// shortName keeps the end of s, which tells files apart, in n runes.
func shortName(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return fmt.Sprint("…", string(r[len(r)-n+1:]))
}
