// Package pgcluster starts throwaway PostgreSQL clusters: initdb and pg_ctl
// in a temporary directory, listening on a free loopback port, as the
// postgres user when running as root (initdb refuses root). The tests'
// database (store/pgstore/pgtest) and the load benchmark
// (benchmarks/loadtest) start theirs with it.
package pgcluster

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Options shape a cluster.
type Options struct {
	// Durable keeps fsync on, as in production (the load benchmark). Off,
	// fsync is off: a test's machine does not crash, and commits stay
	// synchronous either way, so a server stopped with Restart loses
	// nothing it acknowledged.
	Durable bool
	// MaxConnections is PostgreSQL's max_connections; 0 keeps its default.
	MaxConnections int
}

// Cluster is a running throwaway PostgreSQL cluster.
type Cluster struct {
	// URL connects to its postgres database as the postgres superuser.
	URL string
	// Port is the loopback port it listens on.
	Port int
	dir  string
	bin  string
	asPG bool
	opts Options
}

// Start creates a cluster in a new temporary directory and starts it.
// Returns an error saying what to install when initdb and pg_ctl are not
// found.
func Start(opts Options) (*Cluster, error) {
	bin, err := FindBin()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "medsettle-pg-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{dir: dir, bin: bin, asPG: os.Geteuid() == 0, opts: opts}
	if c.asPG {
		u, err := user.Lookup("postgres")
		if err != nil {
			_ = os.RemoveAll(dir)
			return nil, fmt.Errorf("running as root needs a postgres user (initdb refuses root): %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			_ = os.RemoveAll(dir)
			return nil, err
		}
	}
	// --no-sync only skips initdb's own final flush of the files it wrote.
	if out, err := c.cmd("initdb", "-D", c.data(), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync").CombinedOutput(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v: %s", err, out)
	}
	if c.Port, err = freePort(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	c.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.Port)
	if err := c.startServer(); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

func (c *Cluster) data() string { return filepath.Join(c.dir, "data") }

func (c *Cluster) cmd(name string, args ...string) *exec.Cmd {
	path := filepath.Join(c.bin, name)
	if c.asPG {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	}
	return exec.Command(path, args...)
}

func (c *Cluster) startServer() error {
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1", c.Port, c.dir)
	if c.opts.Durable {
		opts += " -c fsync=on -c synchronous_commit=on"
	} else {
		opts += " -c fsync=off"
	}
	if c.opts.MaxConnections > 0 {
		opts += fmt.Sprintf(" -c max_connections=%d", c.opts.MaxConnections)
	}
	out, err := c.cmd("pg_ctl", "-D", c.data(), "-o", opts, "-l", filepath.Join(c.dir, "log"), "-w", "-t", "60", "start").CombinedOutput()
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(c.dir, "log"))
		return fmt.Errorf("pg_ctl start: %v: %s\n%s", err, out, log)
	}
	return nil
}

// Restart stops the server at once (as a crash would) and starts it again
// on the same port after pause.
func (c *Cluster) Restart(pause time.Duration) error {
	if out, err := c.cmd("pg_ctl", "-D", c.data(), "-m", "immediate", "-w", "stop").CombinedOutput(); err != nil {
		return fmt.Errorf("pg_ctl stop: %v: %s", err, out)
	}
	time.Sleep(pause)
	return c.startServer()
}

// Stop stops the server at once and removes the cluster.
func (c *Cluster) Stop() {
	_ = c.cmd("pg_ctl", "-D", c.data(), "-m", "immediate", "-w", "stop").Run()
	_ = os.RemoveAll(c.dir)
}

// FindBin finds the directory of initdb and pg_ctl: the PATH first
// (through Debian's wrappers to the real binaries), then Debian's
// /usr/lib/postgresql/<version>/bin, newest first.
func FindBin() (string, error) {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		dir := filepath.Dir(p)
		if real, err := filepath.EvalSymlinks(p); err == nil && strings.Contains(real, "/usr/lib/postgresql/") {
			dir = filepath.Dir(real)
		}
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err == nil {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Sort(sort.Reverse(sort.StringSlice(dirs)))
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("initdb and pg_ctl not found on the PATH or in /usr/lib/postgresql/*/bin: install PostgreSQL (Debian: apt-get install postgresql)")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
