package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// runID tags this run's request ids, so that no request of one run (or of
// its warm-ups) repeats another's on a database that outlives it.
var runID = nonce()

// nonce is 8 random hex digits.
func nonce() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// server is a running `medsettle serve`.
type server struct {
	cmd    *exec.Cmd
	bin    string
	addr   string
	log    string
	exited chan struct{}
	err    error // the process's exit, once exited is closed
	// rates are the best rate each row has reached on this server,
	// which size its next request files.
	rates rates
	// his is the national gateway's client when the run has its row.
	his *hisLoad
}

// startServer starts `medsettle serve --demo` with args (and env added to
// this process's environment) on a free loopback port and waits until its
// health service answers SERVING.
func startServer(ctx context.Context, bin, work, name string, args, env []string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &server{bin: bin, addr: fmt.Sprintf("127.0.0.1:%d", port), log: filepath.Join(work, "serve-"+name+".log"), exited: make(chan struct{})}
	logFile, err := os.Create(s.log)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	s.cmd = exec.Command(bin, append([]string{"serve", "--demo", "--listen", s.addr}, args...)...)
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	if len(env) > 0 {
		s.cmd.Env = append(os.Environ(), env...)
	}
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // Ctrl-C is ours to handle
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start medsettle serve: %w", err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.exited)
	}()
	if err := s.waitHealthy(ctx, 90*time.Second); err != nil {
		_ = s.stop()
		return nil, err
	}
	return s, nil
}

// waitHealthy polls grpc.health.v1.Health/Check until SERVING.
func (s *server) waitHealthy(ctx context.Context, within time.Duration) error {
	conn, err := grpc.NewClient(s.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	client := healthpb.NewHealthClient(conn)
	deadline := time.Now().Add(within)
	for {
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		resp, err := client.Check(cctx, &healthpb.HealthCheckRequest{})
		cancel()
		if err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("medsettle serve exited (%v) before serving:\n%s", s.err, s.logTail())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("medsettle serve not healthy on %s after %s (last: %v):\n%s", s.addr, within, err, s.logTail())
		}
	}
}

// importPersons runs `medsettle import persons` against the server.
func (s *server) importPersons(ctx context.Context, csv string) error {
	cmd := exec.CommandContext(ctx, s.bin, "import", "persons", csv, "--addr", s.addr)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("medsettle import persons: %w\n%s", err, out)
	}
	return nil
}

// alive reports an error when the server has exited.
func (s *server) alive() error {
	select {
	case <-s.exited:
		return fmt.Errorf("medsettle serve exited during the run (%v):\n%s", s.err, s.logTail())
	default:
		return nil
	}
}

// stop sends SIGTERM (the server drains its calls), then SIGKILL after 40 s.
func (s *server) stop() error {
	select {
	case <-s.exited:
		return nil
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		return nil
	case <-time.After(40 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
		return fmt.Errorf("medsettle serve did not stop within 40 s of SIGTERM:\n%s", s.logTail())
	}
}

// logTail is the last lines of the server's log.
func (s *server) logTail() string {
	raw, _ := os.ReadFile(s.log)
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return strings.Join(lines, "\n")
}

// freePort is a loopback TCP port free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
