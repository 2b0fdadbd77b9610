package pgstore

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/medsettle/medsettle/engine"
)

// ExecSQL runs statements in the store's schema ({s}).
func ExecSQL(ctx context.Context, s *Store, sql string) error {
	_, err := s.pool.Exec(ctx, s.sql(sql))
	return err
}

// ExplainEachPerson is the plan of EachPerson's statement for a filter.
func ExplainEachPerson(ctx context.Context, s *Store, region string, scheme engine.Scheme) (string, error) {
	q, args := s.eachPersonQuery(region, scheme)
	rows, err := s.pool.Query(ctx, "EXPLAIN "+q, args...)
	if err != nil {
		return "", err
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return strings.Join(lines, "\n"), err
}
