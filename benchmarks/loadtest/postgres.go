package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/medsettle/medsettle/store/pgstore/pgcluster"
)

// startCluster starts a throwaway PostgreSQL cluster for the run, as
// durable as production: fsync and synchronous_commit on, every other
// setting PostgreSQL's default.
func startCluster() (*pgcluster.Cluster, error) {
	c, err := pgcluster.Start(pgcluster.Options{Durable: true})
	if err != nil {
		return nil, fmt.Errorf("%w; or give -database-url (LOADTEST_DATABASE_URL)", err)
	}
	return c, nil
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
