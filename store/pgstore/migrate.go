package pgstore

import (
	"context"
	"embed"
	"fmt"
	"hash/fnv"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migration is one embedded file: migrations/NNNN_name.sql.
type migration struct {
	version int
	name    string
	sql     string
}

func loadMigrations() ([]migration, error) {
	files, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, f := range files {
		base := strings.TrimPrefix(f, "migrations/")
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s is not named NNNN_name.sql", f)
		}
		raw, err := migrationFS.ReadFile(f)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: base, sql: string(raw)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

// migrate applies the embedded migrations that the schema lacks, one
// transaction per file, holding a session advisory lock so that servers
// starting at once take turns. It returns how many it applied.
func (s *Store) migrate(ctx context.Context) (int, error) {
	migrations, err := loadMigrations()
	if err != nil {
		return 0, err
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return 0, translate(err)
	}
	defer conn.Release()
	h := fnv.New64a()
	_, _ = h.Write([]byte("medsettle migrations " + s.schema))
	lockKey := int64(h.Sum64())
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", lockKey); err != nil {
		return 0, fmt.Errorf("take migration lock: %w", translate(err))
	}
	defer func() {
		_, _ = conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", lockKey)
	}()
	schema := pgx.Identifier{s.schema}.Sanitize()
	if _, err := conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+schema); err != nil {
		return 0, fmt.Errorf("create schema %s: %w", schema, translate(err))
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE IF NOT EXISTS "+schema+`.medsettle_migrations (
		version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL)`); err != nil {
		return 0, fmt.Errorf("create migrations table: %w", translate(err))
	}
	rows, err := conn.Query(ctx, "SELECT version FROM "+schema+".medsettle_migrations")
	if err != nil {
		return 0, translate(err)
	}
	applied, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return 0, translate(err)
	}
	done := map[int]bool{}
	latest := migrations[len(migrations)-1].version
	for _, v := range applied {
		done[v] = true
		if v > latest {
			// A newer build migrated it: this one would write what the newer
			// schema keeps otherwise (0012's live_rows, say) and corrupt it.
			return 0, fmt.Errorf("schema %s is at migration %d, newer than this build's %d: a newer medsettle migrated it; run that version or a later one (every server of a schema must run a build that knows its migrations)", s.schema, v, latest)
		}
	}
	n := 0
	for _, m := range migrations {
		if done[m.version] {
			continue
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SELECT pg_catalog.set_config('search_path', $1, true)", schema); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO "+schema+".medsettle_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
				m.version, m.name, s.now())
			return err
		})
		if err != nil {
			return n, fmt.Errorf("migration %s: %w", m.name, translate(err))
		}
		n++
	}
	return n, nil
}
