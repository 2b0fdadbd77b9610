package pgstore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store/pgstore"
)

// TestEachPersonStreamsFromTheIndex: a region and scheme are walked from
// the index persons_region_scheme_id in person id byte order, with no
// sort of the region first (a million residents would be sorted before
// the first row came), and the walk hands over every person, identities
// included, in that order.
func TestEachPersonStreamsFromTheIndex(t *testing.T) {
	ctx := context.Background()
	st := open(t)
	// 50,000 residents in each of two regions, every tenth with an
	// identity (category MONITORED = 4, 2026).
	if err := pgstore.ExecSQL(ctx, st, `INSERT INTO {s}.persons (person_id, name, region, scheme, employment, category,
			contribution_years, account_balance, identities)
		SELECT r || '-' || md5(i::text), 'n', r, 2, 0, 0, 1, 0,
			CASE WHEN i % 10 = 0 THEN ARRAY[4, 20260101, 20261231] ELSE '{}' END
		FROM generate_series(1, 50000) i, unnest(ARRAY['340600', '340700']) r;
		ANALYZE {s}.persons`); err != nil {
		t.Fatal(err)
	}
	plan, err := pgstore.ExplainEachPerson(ctx, st, "340600", engine.SchemeResident)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plan, "persons_region_scheme_id") || strings.Contains(plan, "Sort") {
		t.Errorf("EachPerson of one region does not stream from the index:\n%s", plan)
	}
	began := time.Now()
	n, withIDs, last := 0, 0, ""
	err = st.EachPerson(ctx, "340600", engine.SchemeResident, func(p engine.Person) error {
		if p.ID <= last {
			t.Fatalf("%q after %q: not in byte order", p.ID, last)
		}
		last = p.ID
		n++
		if len(p.Identities) > 0 {
			withIDs++
			if p.Identities[0].Category != engine.CategoryMonitored || p.Identities[0].ValidTo.String() != "2026-12-31" {
				t.Fatalf("%s: identities %+v", p.ID, p.Identities)
			}
		}
		return nil
	})
	t.Logf("walked in %s", time.Since(began))
	if err != nil || n != 50000 || withIDs != 5000 {
		t.Errorf("walked %d persons, %d with identities (%v); want 50000 and 5000", n, withIDs, err)
	}
}
