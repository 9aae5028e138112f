package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// Peak RSS needs care. On Linux a child's rusage Maxrss also counts the
// memory of the process that started it: Go starts children with
// vfork-style clone (CLONE_VM), and exec records the hiwater RSS of the
// mm it leaves, which is the parent's, in the new process's maxrss. Read
// straight from this driver, whose RSS grows to hundreds of MB checking
// outputs, every child would report at least that. So each measured
// program is started by a small launcher process (this binary again, with
// -launch), whose own memory is a few MB; the launcher reads
// ProcessState.SysUsage().Maxrss of its child and reports it with the
// child's run time.

// launched is what the launcher reports.
type launched struct {
	MaxRSSKB  int64
	ElapsedNS int64
	ExitCode  int
	Stderr    string
}

// throttle makes the launcher a slow consumer of the program's stdout: it
// pauses for Pause after every Lines lines, as a downstream program that
// takes that long with each batch of features would.
type throttle struct {
	Lines int
	Pause time.Duration
}

func (t throttle) String() string {
	if t.Lines == 0 {
		return "no consumer"
	}
	return fmt.Sprintf("consumer %s per %d items", t.Pause, t.Lines)
}

// launch runs argv with stdout to the file outPath (through a throttled
// reader when th is set), and prints a launched as JSON on stdout. It is
// the -launch mode of this program.
func launch(outPath string, th throttle, argv []string) error {
	out, err := os.Create(outPath)
	if err != nil {
		return err
	}
	defer out.Close()
	var stderr bytes.Buffer
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stderr = &stderr
	var pipe io.ReadCloser
	if th.Lines > 0 {
		if pipe, err = cmd.StdoutPipe(); err != nil {
			return err
		}
	} else {
		cmd.Stdout = out
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	var copyErr error
	if pipe != nil {
		copyErr = consume(out, pipe, th)
	}
	err = cmd.Wait()
	elapsed := time.Since(start)
	res := launched{ElapsedNS: int64(elapsed), Stderr: lastLines(stderr.String(), 5)}
	if cmd.ProcessState == nil {
		return err
	}
	if copyErr != nil {
		return copyErr
	}
	res.ExitCode = cmd.ProcessState.ExitCode()
	res.MaxRSSKB = maxRSS(cmd.ProcessState) / 1024
	return json.NewEncoder(os.Stdout).Encode(res)
}

// consume copies r to w line by line, pausing th.Pause after every
// th.Lines lines.
func consume(w io.Writer, r io.Reader, th throttle) error {
	br := bufio.NewReaderSize(r, 64<<10)
	bw := bufio.NewWriterSize(w, 1<<20)
	for n := 1; ; n++ {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			bw.Write(line)
			n-- // the rest of the same line
			continue
		}
		bw.Write(line)
		if err == io.EOF {
			return bw.Flush()
		}
		if err != nil {
			return err
		}
		if n%th.Lines == 0 {
			time.Sleep(th.Pause)
		}
	}
}

// runLaunched runs argv through a launcher, its stdout to outPath, read
// as th says.
func runLaunched(ctx context.Context, outPath string, th throttle, argv ...string) (launched, error) {
	self, err := os.Executable()
	if err != nil {
		return launched{}, err
	}
	args := []string{"-launch", outPath}
	if th.Lines > 0 {
		args = append(args, "-throttle-lines", fmt.Sprint(th.Lines), "-throttle-pause", th.Pause.String())
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, self, append(append(args, "--"), argv...)...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return launched{}, fmt.Errorf("launcher: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	var res launched
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		return res, fmt.Errorf("launcher: %w", err)
	}
	if res.ExitCode != 0 {
		return res, fmt.Errorf("%s: exit status %d: %s", argv[0], res.ExitCode, res.Stderr)
	}
	return res, nil
}
