package pgstore

import (
	"context"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store/pgstore/pgtest"
)

func numericOf(s string, exp int32) pgtype.Numeric {
	i, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic(s)
	}
	return pgtype.Numeric{Int: i, Exp: exp, Valid: true}
}

// TestMoneyFromNumeric: a NUMERIC becomes money only when it is a whole
// number of fen that fits, whatever its coefficient and exponent; never
// rounded.
func TestMoneyFromNumeric(t *testing.T) {
	ok := []struct {
		n    pgtype.Numeric
		want string
	}{
		{numericOf("70000", -2), "700.00"},
		{numericOf("7", 2), "700.00"},
		{numericOf("1234", -2), "12.34"},
		{numericOf("123400", -4), "12.34"},
		{numericOf("-5", -1), "-0.50"},
		{numericOf("0", 0), "0.00"},
		{numericOf("0", -30), "0.00"},
		{numericOf("1"+strings.Repeat("0", 30), -28), "100.00"},
		{numericOf("9223372036854775807", -2), "92233720368547758.07"},
		{numericOf("-9223372036854775808", -2), "-92233720368547758.08"},
	}
	for _, c := range ok {
		got, err := moneyCodec.fromNumeric(c.n)
		if err != nil || got.String() != c.want {
			t.Errorf("%v×10^%d = %s, %v; want %s", c.n.Int, c.n.Exp, got, err, c.want)
		}
	}
	refused := map[string]pgtype.Numeric{
		"three decimals":          numericOf("12345", -3),
		"a fen and a bit":         numericOf("1"+strings.Repeat("0", 25)+"1", -27),
		"beyond int64 fen":        numericOf("9223372036854775808", -2),
		"beyond int64 by its exp": numericOf("1", 18),
		"NULL":                    {},
		"NaN":                     {NaN: true, Valid: true},
		"infinity":                {InfinityModifier: pgtype.Infinity, Valid: true},
	}
	for what, n := range refused {
		if got, err := moneyCodec.fromNumeric(n); err == nil {
			t.Errorf("%s: read as %s, want an error", what, got)
		}
	}
	if got, err := ratioCodec.fromNumeric(numericOf("12345", -4)); err != nil || !got.Equal(engine.MustRatio("1.2345")) {
		t.Errorf("ratio 1.2345 = %s, %v", got, err)
	}
	if got, err := priceCodec.fromNumeric(numericOf("1", -6)); err != nil || !got.Equal(engine.MustPrice("0.000001")) {
		t.Errorf("price 0.000001 = %s, %v", got, err)
	}
}

// TestFiguresRoundTrip: every engine figure goes to PostgreSQL as the
// exact NUMERIC and comes back equal, under the extended and the simple
// protocol; a NULL scans into a nil pointer and is refused otherwise; a
// NUMERIC with more decimals than the type has is refused.
func TestFiguresRoundTrip(t *testing.T) {
	url := pgtest.URL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	registerFigures(conn.TypeMap())

	money, ratio, qty := engine.MustMoney("-123456789012.34"), engine.MustRatio("0.8765"), engine.MustQuantity("2.5")
	price, points, pv := engine.MustPrice("35.123456"), engine.MustPoints("120.5"), engine.MustPointValue("0.987654")
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeSimpleProtocol} {
		var m engine.Money
		var r engine.Ratio
		var q engine.Quantity
		var p engine.Price
		var pt engine.Points
		var v engine.PointValue
		var text string
		var null *engine.Money
		err := conn.QueryRow(ctx, `SELECT $1::numeric(20, 2), $2::numeric, $3::numeric, $4::numeric, $5::numeric, $6::numeric,
				$1::numeric(20, 2)::text, NULL::numeric`, mode, money, ratio, qty, price, points, pv).
			Scan(&m, &r, &q, &p, &pt, &v, &text, &null)
		if err != nil {
			t.Fatalf("mode %v: %v", mode, err)
		}
		if m != money || r != ratio || q != qty || p != price || pt != points || v != pv || null != nil {
			t.Errorf("mode %v: read back %s %s %s %s %s %s %v", mode, m, r, q, p, pt, v, null)
		}
		if text != "-123456789012.34" {
			t.Errorf("mode %v: PostgreSQL holds %s", mode, text)
		}
		var back *engine.Money
		if err := conn.QueryRow(ctx, `SELECT $1::numeric`, mode, &money).Scan(&back); err != nil || back == nil || *back != money {
			t.Errorf("mode %v: a pointer to money: %v, %v", mode, back, err)
		}
	}
	var m engine.Money
	if err := conn.QueryRow(ctx, `SELECT 700.000::numeric`).Scan(&m); err != nil || m.String() != "700.00" {
		t.Errorf("700.000 = %s, %v", m, err)
	}
	for _, sql := range []string{`SELECT NULL::numeric`, `SELECT 1.005`, `SELECT 'NaN'::numeric`, `SELECT 1e30::numeric`} {
		if err := conn.QueryRow(ctx, sql).Scan(&m); err == nil {
			t.Errorf("%s: read as %s, want an error", sql, m)
		}
	}
}
