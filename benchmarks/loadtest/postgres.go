package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// cluster is a throwaway PostgreSQL cluster, started the way `make
// postgres` and store/pgstore/pgtest start theirs (initdb and pg_ctl, as
// the postgres user when running as root), but durable: fsync and
// synchronous_commit on, every other setting PostgreSQL's default.
type cluster struct {
	url  string
	dir  string
	bin  string
	asPG bool
}

// startCluster creates and starts a cluster in a new temporary directory
// on a free loopback port.
func startCluster(ctx context.Context) (*cluster, error) {
	bin, err := findPGBin()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "medsettle-loadtest-pg-")
	if err != nil {
		return nil, err
	}
	c := &cluster{dir: dir, bin: bin, asPG: os.Geteuid() == 0}
	if c.asPG {
		// initdb refuses root: the cluster belongs to the postgres user.
		u, err := user.Lookup("postgres")
		if err != nil {
			_ = os.RemoveAll(dir)
			return nil, fmt.Errorf("running as root needs a postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			_ = os.RemoveAll(dir)
			return nil, err
		}
	}
	data := filepath.Join(dir, "data")
	// --no-sync only skips initdb's own final flush of the files it wrote;
	// the server runs with fsync on.
	if out, err := c.cmd(ctx, "initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync").CombinedOutput(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %w: %s", err, out)
	}
	port, err := freePort()
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	c.url = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=on -c synchronous_commit=on", port, dir)
	if out, err := c.cmd(ctx, "pg_ctl", "-D", data, "-o", opts, "-l", filepath.Join(dir, "log"), "-w", "-t", "60", "start").CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		c.stop()
		return nil, fmt.Errorf("pg_ctl start: %w: %s\n%s", err, out, log)
	}
	return c, nil
}

func (c *cluster) cmd(ctx context.Context, name string, args ...string) *exec.Cmd {
	path := filepath.Join(c.bin, name)
	if c.asPG {
		return exec.CommandContext(ctx, "runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	}
	return exec.CommandContext(ctx, path, args...)
}

// stop stops the server at once and removes the cluster; it runs after
// Ctrl-C too, so it does not take the run's context.
func (c *cluster) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_ = c.cmd(ctx, "pg_ctl", "-D", filepath.Join(c.dir, "data"), "-m", "immediate", "-w", "stop").Run()
	_ = os.RemoveAll(c.dir)
}

// findPGBin finds the directory of initdb and pg_ctl: the PATH first
// (through Debian's wrappers to the real binaries), then
// /usr/lib/postgresql/<version>/bin, newest first.
func findPGBin() (string, error) {
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
	return "", fmt.Errorf("initdb and pg_ctl not found on the PATH or in /usr/lib/postgresql/*/bin: install PostgreSQL, or give -database-url (LOADTEST_DATABASE_URL)")
}

// describeDatabase says which PostgreSQL the run uses and how durable it
// is, from the server's own settings.
func describeDatabase(ctx context.Context, url string) (string, error) {
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, url)
	if err != nil {
		return "", fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer conn.Close(cctx)
	var version, fsync, syncCommit, buffers, maxConns, dataDir string
	err = conn.QueryRow(cctx, `SELECT current_setting('server_version'), current_setting('fsync'),
		current_setting('synchronous_commit'), current_setting('shared_buffers'), current_setting('max_connections'),
		coalesce(current_setting('data_directory', true), '')`).Scan(&version, &fsync, &syncCommit, &buffers, &maxConns, &dataDir)
	if err != nil {
		return "", fmt.Errorf("read PostgreSQL settings: %w", err)
	}
	info := fmt.Sprintf("PostgreSQL %s, fsync %s, synchronous_commit %s, shared_buffers %s, max_connections %s",
		version, fsync, syncCommit, buffers, maxConns)
	if dataDir != "" && onTmpfs(dataDir) {
		info += " (data directory on tmpfs: a flush costs nothing)"
	}
	return info, nil
}

// dropSchema drops the run's schema from a database given with
// -database-url.
func dropSchema(url, schema string, p *progress) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err == nil {
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
	}
	if err != nil {
		p.step(fmt.Sprintf("pgstore: could not drop schema %s: %v", schema, err))
	}
}
