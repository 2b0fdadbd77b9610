package national

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/medsettle/medsettle/store"
	"github.com/medsettle/medsettle/store/pgstore"
	"github.com/medsettle/medsettle/store/pgstore/pgtest"
)

// TestSettleOnPostgres: on PostgreSQL, 2207, its repeat, 2208 and its
// retry, and an admission's 2304 answer exactly what they answer on the
// memstore (ids aside): the layers and the balance a settlement read are
// stored with it, and the commit time and settling msgid are found again.
func TestSettleOnPostgres(t *testing.T) {
	st := openPGStore(t)
	run := func(f *stFixture) []string {
		v := f.s1Outpatient()
		out := f.ok("2207", outpatientInput(v, "450", s1OutpatientFigures))
		id := strings.Trim(field(t, out, "setlinfo.setl_id"), `"`)
		f.clock.add(3600e9)
		again := f.ok("2207", outpatientInput(v, "450", ""))
		if again != out {
			t.Fatalf("the repeated 2207 answered\n%s\nthe first\n%s", again, out)
		}
		rev := f.ok("2208", reversal(id, v))
		if retry := f.ok("2208", reversal(id, v)); retry != rev {
			t.Fatalf("the retried 2208 answered\n%s\nthe first\n%s", retry, rev)
		}
		in := f.open("H1", "S1", store.VisitKindInpatient, "21", "", line("A1", "100", "100", "10000"), line("B1", "10", "500", "5000"))
		inp := f.ok("2304", inpatientInput(in, "15000", `,"expContent":{"drg_code":"GB11"}`))
		answers := []string{out, rev, inp}
		for i, a := range answers {
			for _, id := range []string{v.ID, in.ID, id, strings.Trim(field(t, inp, "setlinfo.setl_id"), `"`), f.msgid} {
				a = strings.ReplaceAll(a, id, "ID")
			}
			answers[i] = a
		}
		return answers
	}
	onPG := run(newStFixtureOn(t, st))
	onMem := run(newStFixture(t))
	for i := range onPG {
		if onPG[i] != onMem[i] {
			t.Errorf("answer %d on PostgreSQL\n%s\non the memstore\n%s", i, onPG[i], onMem[i])
		}
	}
}

// TestReverseRetryWithoutStoredBalance: a settlement reversed before
// stores kept the balance after a reversal (migration 0013; emulated by
// clearing the column) has none, and its 2208 retry answers balc as the
// balance is now, everything else as the first reversal.
func TestReverseRetryWithoutStoredBalance(t *testing.T) {
	ctx := context.Background()
	st := openPGStore(t)
	f := newStFixtureOn(t, st)
	v := f.s1Outpatient()
	id := strings.Trim(field(t, f.ok("2207", outpatientInput(v, "450", "")), "setlinfo.setl_id"), `"`)
	rev := f.ok("2208", reversal(id, v))
	if got := field(t, rev, "setlinfo.balc"); got != "1000.00" {
		t.Fatalf("2208 answered balc %s, want 1000.00", got)
	}
	f.ok("2207", outpatientInput(f.s1Outpatient(), "450", "")) // the account pays 315.00
	if retry := f.ok("2208", reversal(id, v)); retry != rev {
		t.Fatalf("the retried 2208 answered\n%s\nthe first\n%s", retry, rev)
	}
	if _, err := st.Pool().Exec(ctx, `UPDATE `+pgx.Identifier{st.Schema()}.Sanitize()+`.settlements
		SET balance_after_reversal = NULL WHERE settlement_id = $1`, id); err != nil {
		t.Fatal(err)
	}
	if got, err := st.GetSettlement(ctx, id); err != nil || got.BalanceAfterReversal != nil {
		t.Fatalf("the settlement without a stored balance reads %v, %v", got.BalanceAfterReversal, err)
	}
	retry := f.ok("2208", reversal(id, v))
	if got := field(t, retry, "setlinfo.balc"); got != "685.00" {
		t.Errorf("the retry without a stored balance answered balc %s, want the balance now, 685.00", got)
	}
	if strings.Replace(retry, `"balc":685.00`, `"balc":1000.00`, 1) != rev {
		t.Errorf("the retry without a stored balance answered\n%s\nthe first\n%s", retry, rev)
	}
}

// openPGStore is a pgstore in a fresh schema of the test database, closed
// when the test ends.
func openPGStore(t *testing.T) *pgstore.Store {
	t.Helper()
	url := pgtest.URL(t)
	st, err := pgstore.Open(context.Background(), url, pgstore.Options{Schema: pgtest.Schema(t, url), Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}
