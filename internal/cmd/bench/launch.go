package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
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

// launch runs argv with stdout to the file outPath, and prints a launched
// as JSON on stdout. It is the -launch mode of this program.
func launch(outPath string, argv []string) error {
	out, err := os.Create(outPath)
	if err != nil {
		return err
	}
	defer out.Close()
	var stderr bytes.Buffer
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = out, &stderr
	start := time.Now()
	err = cmd.Run()
	elapsed := time.Since(start)
	res := launched{ElapsedNS: int64(elapsed), Stderr: lastLines(stderr.String(), 5)}
	if cmd.ProcessState == nil {
		return err
	}
	res.ExitCode = cmd.ProcessState.ExitCode()
	res.MaxRSSKB = maxRSS(cmd.ProcessState) / 1024
	return json.NewEncoder(os.Stdout).Encode(res)
}

// runLaunched runs argv through a launcher, its stdout to outPath.
func runLaunched(ctx context.Context, outPath string, argv ...string) (launched, error) {
	self, err := os.Executable()
	if err != nil {
		return launched{}, err
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, self, append([]string{"-launch", outPath, "--"}, argv...)...)
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
