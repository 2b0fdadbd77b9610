package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// eachPersonSQL walks the persons of a region and scheme in person id byte
// order: the index persons_region_scheme_id (migration 0009) gives the
// rows in that order. {where} is filled by eachPersonQuery.
const eachPersonSQL = `SELECT ` + personColumns + ` FROM {s}.persons {where} ORDER BY person_id COLLATE "C"`

// eachPersonQuery is eachPersonSQL for the filters given, with their
// arguments: one statement per combination of filters rather than one
// whose SQL tests for an empty filter, which no plan serves from the index.
func (s *Store) eachPersonQuery(region string, scheme engine.Scheme) (string, []any) {
	var where string
	var args []any
	switch {
	case region != "" && scheme != engine.SchemeUnspecified:
		where, args = "WHERE region = $1 AND scheme = $2", []any{region, int16(scheme)}
	case region != "":
		where, args = "WHERE region = $1", []any{region}
	case scheme != engine.SchemeUnspecified:
		where, args = "WHERE scheme = $1", []any{int16(scheme)}
	}
	return s.sql(strings.Replace(eachPersonSQL, "{where}", where, 1)), args
}

// eachPersonFetch is how many persons EachPerson reads in one round trip.
const eachPersonFetch = 1000

// EachPerson implements store.Store: one read-only REPEATABLE READ
// transaction (snapshotTx) reading the persons through a cursor,
// eachPersonFetch rows a round trip, so that neither side holds more than
// a batch, and a walk that stops early (fn's error, ctx) leaves the rest
// unread rather than draining it. fn runs while the transaction is open;
// a slow fn keeps it open (and its snapshot) that long. fn's error is
// returned as it is, and so is ctx's.
func (s *Store) EachPerson(ctx context.Context, region string, scheme engine.Scheme, fn func(engine.Person) error) error {
	if !store.Storable(region) {
		// Names no person; PostgreSQL would refuse to compare it.
		return ctx.Err()
	}
	tx, err := s.pool.BeginTx(ctx, snapshotTx)
	if err != nil {
		return eachErr(ctx, err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	query, args := s.eachPersonQuery(region, scheme)
	if _, err := tx.Exec(ctx, "DECLARE each_person NO SCROLL CURSOR FOR "+query, args...); err != nil {
		return eachErr(ctx, err)
	}
	fetch := "FETCH FORWARD " + strconv.Itoa(eachPersonFetch) + " FROM each_person"
	batch := make([]engine.Person, 0, eachPersonFetch)
	for {
		batch, err = s.fetchPersons(ctx, tx, fetch, batch[:0])
		if err != nil {
			return err
		}
		for _, p := range batch {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := fn(p); err != nil {
				return err
			}
		}
		if len(batch) < eachPersonFetch {
			break
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return eachErr(ctx, err)
	}
	return nil
}

// fetchPersons appends the persons one FETCH of EachPerson's cursor reads.
func (s *Store) fetchPersons(ctx context.Context, tx pgx.Tx, fetch string, out []engine.Person) ([]engine.Person, error) {
	rows, err := tx.Query(ctx, fetch)
	if err != nil {
		return out, eachErr(ctx, err)
	}
	defer rows.Close()
	for rows.Next() {
		p, err := scanPersonRow(rows)
		if err != nil {
			if errors.Is(err, engine.ErrInvariant) {
				return out, s.corrupt("EachPerson", err)
			}
			return out, eachErr(ctx, err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return out, eachErr(ctx, err)
	}
	return out, nil
}

// eachErr is the error of a failed walk: ctx's own error when ctx has
// ended (the driver reports a cancelled query in its words), else the
// driver's, translated.
func eachErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	return fmt.Errorf("walk persons: %w", translate(err))
}
