package pgstore

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// rowQuerier is what reads need from a pool or a transaction.
type rowQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// putPersonSQL upserts a person: the account balance is written only
// when the person is new (an opening balance); an existing person keeps
// the live balance.
const putPersonSQL = `INSERT INTO {s}.persons (person_id, name, region, scheme, employment, category, contribution_years, account_balance,
		identities)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
	ON CONFLICT (person_id) DO UPDATE SET name = $2, region = $3, scheme = $4, employment = $5, category = $6,
		contribution_years = $7, identities = $9`

// personColumns are the columns every read of a person selects, in the
// order scanPersonRow scans them.
const personColumns = `person_id, name, region, scheme, employment, category, contribution_years, account_balance, identities`

// putPersonQuery is putPersonSQL in the store's schema.
func (s *Store) putPersonQuery() string {
	return strings.ReplaceAll(putPersonSQL, "{s}", pgx.Identifier{s.schema}.Sanitize())
}

// PutPerson creates or replaces a person, under the person's row lock so
// that it never interleaves with a settlement; an existing person keeps
// the live account balance.
func (s *Store) PutPerson(ctx context.Context, p engine.Person) error {
	if err := store.CheckPersons(p); err != nil {
		return err
	}
	return s.withTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, s.putPersonQuery(), putPersonArgs(p)...)
		return translate(err)
	})
}

// putPersonArgs are putPersonSQL's arguments for p.
func putPersonArgs(p engine.Person) []any {
	return []any{p.ID, p.Name, p.Region, int16(p.Scheme), int16(p.Employment), int16(p.Category), p.ContributionYears,
		p.AccountBalance, encodeIdentities(p.Identities)}
}

// putPersonsChunk is how many persons PutPersons sends in one round trip.
const putPersonsChunk = 1000

// PutPersons creates or replaces many persons in one transaction, the
// upserts pipelined in chunks of putPersonsChunk; a later entry with the
// same id wins, and an existing person keeps the live account balance.
func (s *Store) PutPersons(ctx context.Context, ps []engine.Person) error {
	if len(ps) == 0 {
		return nil
	}
	if err := store.CheckPersons(ps...); err != nil {
		return err
	}
	return s.withTx(ctx, func(tx pgx.Tx) error {
		// Planned for the table as it is now (customPlansSQL): the lock
		// statement's plan cached on a pooled connection while the
		// table was nearly empty scanned the whole table for every chunk.
		if _, err := tx.Exec(ctx, customPlansSQL); err != nil {
			return translate(err)
		}
		// Existing persons are locked first, in the order group commit
		// locks them (lockPersonsSQL), so that an import and a group of
		// settlements never wait for each other in a cycle.
		if err := s.lockPersonsInOrder(ctx, tx, ps); err != nil {
			return err
		}
		// One transaction, sent in pipelined chunks so that no single
		// round trip carries a whole import.
		query := s.putPersonQuery()
		for chunk := range slices.Chunk(ps, putPersonsChunk) {
			b := &pgx.Batch{}
			for _, p := range chunk {
				b.Queue(query, putPersonArgs(p)...)
			}
			if err := tx.SendBatch(ctx, b).Close(); err != nil {
				return translate(err)
			}
		}
		return nil
	})
}

// customPlansSQL makes the rest of a transaction plan each statement for
// its values and for the tables as they are (plan_cache_mode
// force_custom_plan, local to the transaction), never with a generic plan
// cached on the pooled connection. An `= ANY($1)` over a table that was
// nearly empty when the generic plan was made stays a sequential scan
// however large the table grows (until an ANALYZE drops the plan, which a
// long import did not even see): PutPersons of 50,000 persons took 31 s,
// then 59 s as the table grew to 100,000, 0.7 s a chunk of 1,000 ids
// instead of milliseconds. Planning a statement that locks or reads a
// thousand rows costs far less than it saves.
const customPlansSQL = `SELECT pg_catalog.set_config('plan_cache_mode', 'force_custom_plan', true)`

// lockPersonsInOrderSQL locks persons in person id byte order (as group commit
// does), one chunk of ids sorted the same way at a time; it runs with
// custom plans (customPlansSQL), so it probes the primary key once the
// table is large.
const lockPersonsInOrderSQL = `SELECT 1 FROM {s}.persons WHERE person_id = ANY($1::text[]) ORDER BY person_id COLLATE "C" FOR UPDATE`

// lockPersonsInOrder locks the persons of ps that exist, in byte order of
// their ids, in chunks of putPersonsChunk.
func (s *Store) lockPersonsInOrder(ctx context.Context, tx pgx.Tx, ps []engine.Person) error {
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = p.ID
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	q := s.sql(lockPersonsInOrderSQL)
	for chunk := range slices.Chunk(ids, putPersonsChunk) {
		if _, err := tx.Exec(ctx, q, chunk); err != nil {
			return translate(err)
		}
	}
	return nil
}

// GetPerson reads a person. Returns store.ErrNotFound if there is none.
func (s *Store) GetPerson(ctx context.Context, id string) (engine.Person, error) {
	p, err := s.scanPerson(ctx, s.pool, s.q.getPerson, id)
	if err != nil {
		return engine.Person{}, fmt.Errorf("person %q: %w", id, err)
	}
	return p, nil
}

func (s *Store) scanPerson(ctx context.Context, q rowQuerier, sql, id string) (engine.Person, error) {
	p, err := scanPersonRow(q.QueryRow(ctx, sql, id))
	return p, translate(err)
}

// scanPersonRow reads a row of personColumns; the error is the driver's,
// or one wrapping engine.ErrInvariant for identities that cannot be read.
func scanPersonRow(row pgx.Row) (engine.Person, error) {
	var p engine.Person
	var scheme, emp, cat int16
	var ids []int32
	if err := row.Scan(&p.ID, &p.Name, &p.Region, &scheme, &emp, &cat, &p.ContributionYears, &p.AccountBalance, &ids); err != nil {
		return engine.Person{}, err
	}
	p.Scheme, p.Employment, p.Category = engine.Scheme(scheme), engine.Employment(emp), engine.Category(cat)
	var err error
	if p.Identities, err = decodeIdentities(ids); err != nil {
		return engine.Person{}, fmt.Errorf("person %q: %w", p.ID, err)
	}
	return p, nil
}

// PutInstitution creates or replaces an institution and its budgets.
func (s *Store) PutInstitution(ctx context.Context, in engine.Institution) error {
	// Every server's institution cache is dropped: this one's once the
	// transaction ends (committed or not), the others' by the
	// notification the commit delivers.
	defer s.institutions.invalidate()
	return s.withTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, s.q.putInstitution, in.ID, in.Name, in.Region, in.Level); err != nil {
			return translate(err)
		}
		if _, err := tx.Exec(ctx, s.q.deleteBudgets, in.ID); err != nil {
			return translate(err)
		}
		for _, b := range in.Budgets {
			if _, err := tx.Exec(ctx, s.q.putBudget, in.ID, b.Year, b.Amount); err != nil {
				return translate(err)
			}
		}
		_, err := tx.Exec(ctx, s.q.notifyPolicies, s.q.listenChannel)
		return translate(err)
	})
}

// GetInstitution reads an institution. Returns store.ErrNotFound if there is none.
func (s *Store) GetInstitution(ctx context.Context, id string) (engine.Institution, error) {
	in, gen, ok := s.institutions.get(id)
	if ok {
		return in, nil
	}
	in, err := s.readInstitution(ctx, id)
	if err == nil {
		s.institutions.put(in, gen)
	}
	return in, err
}

// readInstitution reads an institution from the database.
func (s *Store) readInstitution(ctx context.Context, id string) (engine.Institution, error) {
	// One statement, one round trip: a row per budget year, or one row
	// with no budget.
	rows, err := s.pool.Query(ctx, s.sql(getInstitutionSQL), id)
	if err != nil {
		return engine.Institution{}, translate(err)
	}
	var in engine.Institution
	n := 0
	for rows.Next() {
		var year *int
		var amount *engine.Money
		if err := rows.Scan(&in.ID, &in.Name, &in.Region, &in.Level, &year, &amount); err != nil {
			rows.Close()
			return engine.Institution{}, translate(err)
		}
		n++
		if year != nil && amount != nil {
			in.Budgets = append(in.Budgets, engine.Budget{Year: *year, Amount: *amount})
		}
	}
	if err := rows.Err(); err != nil {
		return engine.Institution{}, translate(err)
	}
	if n == 0 {
		return engine.Institution{}, fmt.Errorf("institution %q: %w", id, translate(pgx.ErrNoRows))
	}
	return in, nil
}

// getInstitutionSQL reads an institution with its budgets by year.
const getInstitutionSQL = `SELECT i.institution_id, i.name, i.region, i.level, b.year, b.amount
	FROM {s}.institutions i LEFT JOIN {s}.institution_budgets b ON b.institution_id = i.institution_id
	WHERE i.institution_id = $1 ORDER BY b.year`
