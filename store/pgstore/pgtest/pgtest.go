// Package pgtest gives tests a real PostgreSQL: the one named by
// MEDSETTLE_TEST_DATABASE_URL, or else a throwaway cluster started with
// initdb and pg_ctl (as the postgres user when running as root) and removed
// afterwards. Under CI=true a database that cannot be had fails the tests;
// elsewhere they are skipped with the reason.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL names the variable that points tests at an existing database.
const EnvURL = "MEDSETTLE_TEST_DATABASE_URL"

var (
	mu       sync.Mutex
	mainRan  bool
	shared   *Cluster
	setupErr error
)

// Main runs a package's tests with a database available to URL; call it
// from TestMain. The throwaway cluster is started by the first test that
// asks for it, and removed when the tests end.
func Main(m *testing.M) {
	mu.Lock()
	mainRan = true
	mu.Unlock()
	code := m.Run()
	mu.Lock()
	if shared != nil {
		shared.Stop()
	}
	mu.Unlock()
	os.Exit(code)
}

// Unavailable fails the test under CI and skips it elsewhere.
func Unavailable(t testing.TB, err error) {
	t.Helper()
	msg := fmt.Sprintf("no PostgreSQL for this test: %v (set %s, or install PostgreSQL so that initdb and pg_ctl are found)", err, EnvURL)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// URL returns the database URL for the package's tests:
// MEDSETTLE_TEST_DATABASE_URL, or the package's throwaway cluster.
func URL(t testing.TB) string {
	t.Helper()
	if url := os.Getenv(EnvURL); url != "" {
		return url
	}
	mu.Lock()
	defer mu.Unlock()
	if !mainRan {
		Unavailable(t, fmt.Errorf("pgtest.Main was not called from TestMain"))
	}
	if shared == nil && setupErr == nil {
		shared, setupErr = Start()
	}
	if setupErr != nil {
		Unavailable(t, setupErr)
	}
	return shared.URL
}

// Schema returns a new schema name, unique to this test, and drops the
// schema when the test ends.
func Schema(t testing.TB, url string) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "test_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Logf("drop schema %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE"); err != nil {
			t.Logf("drop schema %s: %v", name, err)
		}
	})
	return name
}

// Cluster is a throwaway PostgreSQL cluster.
type Cluster struct {
	URL  string
	Port int
	dir  string
	bin  string
	asPG bool
}

// Start creates and starts a cluster in a temporary directory, on a free
// loopback port, tuned for tests: fsync is off (the machine does not crash
// in a test), but commits stay synchronous, so a server killed with
// Restart loses nothing it acknowledged.
func Start() (*Cluster, error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "medsettle-pg-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{dir: dir, bin: bin, asPG: os.Geteuid() == 0}
	if c.asPG {
		// initdb refuses root: the cluster belongs to the postgres user.
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root needs a postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return nil, err
		}
	}
	if out, err := c.cmd("initdb", "-D", c.data(), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync").CombinedOutput(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v: %s", err, out)
	}
	if c.Port, err = freePort(); err != nil {
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
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300", c.Port, c.dir)
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

// Stop stops the server and removes the cluster.
func (c *Cluster) Stop() {
	_ = c.cmd("pg_ctl", "-D", c.data(), "-m", "immediate", "-w", "stop").Run()
	_ = os.RemoveAll(c.dir)
}

// findBin finds the directory of initdb and pg_ctl: the PATH first, then
// Debian's /usr/lib/postgresql/<version>/bin, newest first.
func findBin() (string, error) {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if _, err := exec.LookPath("initdb"); err == nil {
			dir := filepath.Dir(p)
			if real, err := filepath.EvalSymlinks(p); err == nil && strings.Contains(real, "/usr/lib/postgresql/") {
				dir = filepath.Dir(real) // Debian's wrappers; use the real binaries
			}
			if _, err := os.Stat(filepath.Join(dir, "initdb")); err == nil {
				return dir, nil
			}
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Sort(sort.Reverse(sort.StringSlice(dirs)))
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("initdb and pg_ctl not found on PATH or in /usr/lib/postgresql/*/bin")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
