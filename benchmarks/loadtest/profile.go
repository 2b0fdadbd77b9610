package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"sync"
	"time"
)

// profiler takes CPU profiles of the server (serve --pprof-listen) while
// the first round of each call runs, so that a profile shows one call's
// work only: -profile DIR writes DIR/<store>-<call id>.pprof, and the
// server's mutex waits over the same seconds (serve
// --pprof-mutex-fraction) to DIR/<store>-<call id>.mutex.pprof.
type profiler struct {
	dir  string
	addr string // the server's --pprof-listen address
}

// during returns started, to be called when a run of d starts its calls,
// and wait, which waits for the profile and writes it. The profile covers
// d less 3 s, from a second after started: a ghz run's start is when the
// server gets busy after ghz's launch (whenBusy: ghz parses its request
// file first, seconds for a Settle row), the gateway's when its
// admissions are open and its claims begin. The
// gateway row's (name <store>-gateway) also profiles this process, its
// HIS client, over the same seconds: DIR/<store>-gateway-client.pprof.
// Both are nil-safe, so that a run without -profile calls them alike.
func (pr *profiler) during(ctx context.Context, d time.Duration, name string) (started func(), wait func() error) {
	if pr == nil || d < 4*time.Second {
		return func() {}, func() error { return nil }
	}
	secs := int((d - 3*time.Second) / time.Second)
	begin := make(chan struct{})
	var once sync.Once
	done := make(chan error, 1)
	go func() {
		select {
		case <-begin:
		case <-ctx.Done():
			done <- ctx.Err()
			return
		}
		select {
		case <-time.After(time.Second):
		case <-ctx.Done():
			done <- ctx.Err()
			return
		}
		client := make(chan error, 1)
		if strings.HasSuffix(name, "-"+gatewayCallID) {
			go func() { client <- profileSelf(ctx, secs, filepath.Join(pr.dir, name+"-client.pprof")) }()
		} else {
			client <- nil
		}
		mutex := make(chan error, 1)
		go func() {
			mutex <- pr.fetch(ctx, "mutex", secs, filepath.Join(pr.dir, name+".mutex.pprof"))
		}()
		err := pr.fetch(ctx, "profile", secs, filepath.Join(pr.dir, name+".pprof"))
		if merr := <-mutex; err == nil {
			err = merr
		}
		if cerr := <-client; err == nil {
			err = cerr
		}
		done <- err
	}()
	return func() { once.Do(func() { close(begin) }) }, func() error {
		once.Do(func() { close(begin) }) // a run that failed before its calls
		return <-done
	}
}

// fetch writes the server's profile of kind ("profile": CPU; "mutex":
// the mutex waits, a delta) over secs seconds to path.
func (pr *profiler) fetch(ctx context.Context, kind string, secs int, path string) error {
	url := fmt.Sprintf("http://%s/debug/pprof/%s?seconds=%d", pr.addr, kind, secs)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("profile %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("profile %s: HTTP %d: %s", path, resp.StatusCode, b)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("profile %s: %w", path, err)
	}
	return f.Close()
}

// profileSelf writes a CPU profile of this process over the next secs
// seconds to path (cut short should ctx end).
func profileSelf(ctx context.Context, secs int, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return fmt.Errorf("profile %s: %w", path, err)
	}
	select {
	case <-time.After(time.Duration(secs) * time.Second):
	case <-ctx.Done():
	}
	pprof.StopCPUProfile()
	if err := f.Close(); err != nil {
		return fmt.Errorf("profile %s: %w", path, err)
	}
	return ctx.Err()
}
