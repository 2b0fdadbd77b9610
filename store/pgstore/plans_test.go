package pgstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/medsettle/medsettle/store/pgstore"
	"github.com/medsettle/medsettle/store/pgstore/pgtest"
)

// keyedFillRows is how many rows each table read by key holds when the
// statements' plans are checked.
const keyedFillRows = 20_000

// keyedArgs are each keyed statement's arguments (SQL literals) and how
// many rows it returns with them, on the tables as
// TestKeyedStatementsProbeIndexes fills them: three keys that exist and
// one that does not, or an institution's year of four settlements.
var keyedArgs = map[string]struct {
	args string
	rows float64
}{
	"group lock":           {`'{K00000003,K00000001,NOPE,K00000002}'`, 3},
	"group keys":           {`'{I,I,I,I}', '{R00000001,R00000002,R00000003,NOPE}'`, 3},
	"group years":          {`'{K00000001,K00000002,K00000003,NOPE}', '{2026,2026,2026,2026}'`, 3},
	"group budgets":        {`'{I00000001,I00000002,I00000003,NOPE}', '{2026,2026,2026,2026}'`, 4},
	"group filings":        {`'{K00000001,K00000002,K00000003,NOPE}'`, 3},
	"group visits lock":    {`'{V00000003,V00000001,NOPE,V00000002}'`, 3},
	"group visits mark":    {`'{V00000003,V00000001,NOPE}', 2, '{a,b,c}', '{2026-01-01,2026-01-01,2026-01-01}', '{m,m,m}', '{c,c,c}'`, 0},
	"group details lock":   {`'{V00000003,V00000001,NOPE,V00000002}'`, 3},
	"group details by sn":  {`'{V00000003,V00000001,NOPE,V00000002}', '{1,1,1,2}'`, 2},
	"group details put":    {`now(), '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{V00000003,V00000001,NOPE}', '{1,1,1}', '{1,1,1}'`, 0},
	"group balances":       {`'{K00000001,K00000002,K00000003,NOPE}', '{1.00,2.00,3.00,4.00}'`, 0},
	"PutPersons lock":      {`'{K00000001,K00000002,K00000003,NOPE}'`, 3},
	"EnrollMembers check":  {`'{K00000001,K00000002,K00000003,NOPE}', 2026`, 4},
	"EnrollMembers lock":   {`'{K00000001,K00000002,K00000003,NOPE}'`, 3},
	"EnrollMembers others": {`'{K00000001,K00000002,K00000003,NOPE}', 2026`, 3},
	"Reconcile totals":     {`'I00000002', '2026-01-01', '2026-12-31', 0, '{}'`, 1},
	"Reconcile list":       {`'I00000002', '2026-01-01', '2026-12-31', 0, '{1}', 1000`, 4},
}

// TestKeyedStatementsProbeIndexes checks that every statement that reads
// rows by the keys of an array probes an index for them, even with a plan
// made and cached while its tables were empty: each statement is prepared
// on one connection and executed six times (a generic plan is cached
// after five custom ones unless the transaction's settings say
// otherwise) under its transaction's settings, on analysed empty tables;
// then the tables get keyedFillRows rows each, without an ANALYZE (which
// would drop the cached plans), and the statement runs again through
// EXPLAIN ANALYZE. No table may be read by a sequential scan or by an
// index scan without an index condition, and the statement reads a few
// pages, not the table. A plan cached like this made an import of 50,000
// persons into 100,000 take a minute (benchmarks/README.md, ImportPersons
// at a million).
func TestKeyedStatementsProbeIndexes(t *testing.T) {
	url := pgtest.URL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	schema := pgtest.Schema(t, url)
	st, err := pgstore.Open(ctx, url, pgstore.Options{Schema: schema, MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	tables := []string{"persons", "person_years", "request_keys", "budget_usage", "cross_region_filings",
		"institutions", "capitation_contracts", "contract_members", "settlements", "visits", "fee_details"}
	for _, tb := range tables {
		// Before the statements are prepared: a change of a table's
		// options drops its cached plans.
		name := pgx.Identifier{schema, tb}.Sanitize()
		if _, err := conn.Exec(ctx, "ALTER TABLE "+name+" SET (autovacuum_enabled = off)"); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, "ANALYZE "+name); err != nil {
			t.Fatal(err)
		}
	}

	statements := pgstore.KeyedStatements(st)
	for i, s := range statements {
		a, ok := keyedArgs[s.Name]
		if !ok {
			t.Fatalf("statement %q has no arguments in keyedArgs", s.Name)
		}
		if _, err := conn.Exec(ctx, fmt.Sprintf("PREPARE keyed%d AS %s", i, s.SQL)); err != nil {
			t.Fatalf("%s: prepare: %v", s.Name, err)
		}
		err := inRolledBackTx(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, s.Settings); err != nil {
				return err
			}
			for range 6 {
				if _, err := tx.Exec(ctx, fmt.Sprintf("EXECUTE keyed%d(%s)", i, a.args)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("%s on empty tables: %v", s.Name, err)
		}
	}

	fill := strings.NewReplacer("{s}", pgx.Identifier{schema}.Sanitize(), "{n}", fmt.Sprint(keyedFillRows)).Replace(`
		INSERT INTO {s}.persons (person_id, name, region, scheme, employment, category, contribution_years, account_balance)
			SELECT 'K' || lpad(g::text, 8, '0'), 'n', 'R', 1, 1, 1, 0, 0 FROM generate_series(1, {n}) g;
		INSERT INTO {s}.institutions (institution_id, name, region, level)
			SELECT 'I' || lpad(g::text, 8, '0'), 'h', 'R', 1 FROM generate_series(1, {n}) g;
		INSERT INTO {s}.person_years (person_id, year, accumulators)
			SELECT 'K' || lpad(g::text, 8, '0'), 2026, '{}' FROM generate_series(1, {n}) g;
		INSERT INTO {s}.request_keys (institution_id, request_id, fingerprint, settlement_id)
			SELECT 'I', 'R' || lpad(g::text, 8, '0'), 'f', 'S' FROM generate_series(1, {n}) g;
		INSERT INTO {s}.budget_usage (institution_id, year, shard, used)
			SELECT 'I' || lpad(g::text, 8, '0'), 2026, 1, 1 FROM generate_series(1, {n}) g;
		INSERT INTO {s}.cross_region_filings (filing_id, person_id, region, valid_from, valid_to, updated_at)
			SELECT 'F' || g, 'K' || lpad(g::text, 8, '0'), 'R', '2026-01-01', '2026-12-31', now() FROM generate_series(1, {n}) g;
		INSERT INTO {s}.capitation_contracts (contract_id, institution_id, region, scheme, year, overspend_share,
				overspend_tolerance, updated_at)
			VALUES ('C', 'I00000001', 'R', 1, 2026, 0, 0, now());
		INSERT INTO {s}.contract_members (contract_id, person_id, year)
			SELECT 'C', 'K' || lpad(g::text, 8, '0'), 2026 FROM generate_series(1, {n}) g;
		INSERT INTO {s}.settlements (settlement_id, institution_id, request_id, person_id, visit_type, settle_date, year,
				state, fingerprint, claim, result, total, basic_fund, fund_total, account, settled_at, policy_region,
				policy_scheme, drg_code, personal_total)
			SELECT 'S' || g, 'I' || lpad((g % 5000)::text, 8, '0'), 'R' || g, 'K' || lpad(g::text, 8, '0'), 1,
				date '2026-01-01' + (g / 5000 * 31), 2026, 2, 'f', '{}', '{}', 1, 1, 1, 0, now(), 'R', 1, '', 0
			FROM generate_series(1, {n}) g;
		INSERT INTO {s}.visits (visit_id, institution_id, person_id, kind, number, scheme, med_type, begin_time, state, opened_at, updated_at)
			SELECT 'V' || lpad(g::text, 8, '0'), 'I', 'K' || lpad(g::text, 8, '0'), 1, g::text, 1, '11', '', 1, now(), now() FROM generate_series(1, {n}) g;
		INSERT INTO {s}.fee_details (visit_id, seq, sn, batch, code, name, quantity, unit_price, amount, fee_time, med_type, uploaded_at)
			SELECT 'V' || lpad(g::text, 8, '0'), 1, '1', 'B', 'c', 'n', 1, 1, 1, '', '', now() FROM generate_series(1, {n}) g;`)
	if _, err := conn.Exec(ctx, fill); err != nil {
		t.Fatal(err)
	}

	for i, s := range statements {
		a := keyedArgs[s.Name]
		var doc []byte
		err := inRolledBackTx(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, s.Settings); err != nil {
				return err
			}
			return tx.QueryRow(ctx, fmt.Sprintf("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE keyed%d(%s)", i, a.args)).Scan(&doc)
		})
		if err != nil {
			t.Fatalf("%s on %d rows: %v", s.Name, keyedFillRows, err)
		}
		var plans []struct{ Plan planNode }
		if err := json.Unmarshal(doc, &plans); err != nil || len(plans) != 1 {
			t.Fatalf("%s: EXPLAIN output %s: %v", s.Name, doc, err)
		}
		top := plans[0].Plan
		for _, n := range top.walk() {
			if n.Relation == "" || n.NodeType == "ModifyTable" {
				continue
			}
			indexed := (n.NodeType == "Index Scan" || n.NodeType == "Index Only Scan") && n.IndexCond != "" ||
				n.NodeType == "Bitmap Heap Scan" && n.RecheckCond != ""
			if !indexed {
				t.Errorf("%s: %s of %s (filter %q) in a plan cached while the tables were empty, now with %d rows:\n%s",
					s.Name, n.NodeType, n.Relation, n.Filter, keyedFillRows, doc)
			}
		}
		if top.ActualRows != a.rows {
			t.Errorf("%s: %v rows, want %v", s.Name, top.ActualRows, a.rows)
		}
		// A few keys' index pages and rows; a scan reads hundreds.
		if pages := top.SharedHit + top.SharedRead; pages > 60 {
			t.Errorf("%s read %d pages of tables of %d rows, for 4 keys:\n%s", s.Name, pages, keyedFillRows, doc)
		}
	}
}

// planNode is a node of EXPLAIN's JSON output.
type planNode struct {
	NodeType    string     `json:"Node Type"`
	Relation    string     `json:"Relation Name"`
	IndexCond   string     `json:"Index Cond"`
	RecheckCond string     `json:"Recheck Cond"`
	Filter      string     `json:"Filter"`
	ActualRows  float64    `json:"Actual Rows"`
	SharedHit   int        `json:"Shared Hit Blocks"`
	SharedRead  int        `json:"Shared Read Blocks"`
	Plans       []planNode `json:"Plans"`
}

// walk returns n and every node below it.
func (n planNode) walk() []planNode {
	nodes := []planNode{n}
	for _, c := range n.Plans {
		nodes = append(nodes, c.walk()...)
	}
	return nodes
}

// inRolledBackTx runs fn in a transaction of conn that is rolled back.
func inRolledBackTx(ctx context.Context, conn *pgx.Conn, fn func(pgx.Tx) error) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	return fn(tx)
}
