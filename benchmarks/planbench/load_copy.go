package main

import (
	"context"
	"math/big"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/medsettle/medsettle/engine"
)

// copyResidents writes residents 0 … n−1 straight into the schema's
// persons table with COPY, in the columns and encodings pgstore's
// PutPersons writes (identities as the flat YYYYMMDD triples of
// migration 0009). It is the benchmark's fast load: ImportPersons locks
// the ids it imports with a statement that scanned the whole table per
// chunk of 1,000 ids at this size (benchmarks/README.md), which made a
// million-person import take hours.
func copyResidents(ctx context.Context, url, schema string, n int) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	zero := pgtype.Numeric{Int: big.NewInt(0), Valid: true}
	i := 0
	rows := pgx.CopyFromFunc(func() ([]any, error) {
		if i == n {
			return nil, nil
		}
		p := personOf(i)
		var ids []int32
		for _, id := range identitiesOf(i) {
			ids = append(ids, int32(id.category), yyyymmdd(id.from), yyyymmdd(id.to))
		}
		if ids == nil {
			ids = []int32{}
		}
		i++
		return []any{p.GetPersonId(), p.GetName(), p.GetRegion(), int16(engine.SchemeResident), int16(engine.EmploymentAny),
			int16(engine.CategoryUnspecified), p.GetContributionYears(), zero, ids}, nil
	})
	_, err = conn.CopyFrom(ctx, pgx.Identifier{schema, "persons"},
		[]string{"person_id", "name", "region", "scheme", "employment", "category", "contribution_years", "account_balance", "identities"}, rows)
	return err
}

// yyyymmdd is "YYYY-MM-DD" as the integer YYYYMMDD.
func yyyymmdd(s string) int32 {
	var v int32
	for _, c := range s {
		if c != '-' {
			v = v*10 + c - '0'
		}
	}
	return v
}
