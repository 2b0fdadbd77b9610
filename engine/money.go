package engine

import (
	"fmt"
	"strings"

	"github.com/shopspring/decimal"
)

// Limits on the decimal strings the engine accepts, so that a hostile input
// cannot make arithmetic arbitrarily expensive.
const (
	// MaxDecimalLen is the longest decimal string accepted.
	MaxDecimalLen = 24
	// MaxMoney is the largest amount of money accepted anywhere (one trillion yuan).
	MaxMoney = "1000000000000"
)

var (
	zero     = decimal.Zero
	one      = decimal.NewFromInt(1)
	maxMoney = decimal.RequireFromString(MaxMoney)
)

// Round2 rounds half away from zero to the fen: the one rounding rule of
// SETTLEMENT.md.
func Round2(d decimal.Decimal) decimal.Decimal { return d.Round(2) }

// FormatMoney renders money with exactly two decimals ("700.00").
func FormatMoney(d decimal.Decimal) string { return d.StringFixed(2) }

// ParseDecimal parses a plain unsigned decimal string ("12", "3.5",
// "0.0001") with at most maxPlaces decimals. Every figure the API takes
// (money, prices, quantities, ratios) is non-negative, so a sign is refused,
// "-0" included, as are exponents, spaces and strings longer than
// MaxDecimalLen.
func ParseDecimal(s string, maxPlaces int) (decimal.Decimal, error) {
	if s == "" {
		return zero, fmt.Errorf("empty decimal")
	}
	if len(s) > MaxDecimalLen {
		return zero, fmt.Errorf("decimal %q is longer than %d characters", truncate(s, 30), MaxDecimalLen)
	}
	if strings.HasPrefix(s, "-") {
		return zero, fmt.Errorf("%q is negative; amounts, prices, quantities and ratios never are", truncate(s, 30))
	}
	intPart, frac, hasDot := strings.Cut(s, ".")
	if intPart == "" || (hasDot && frac == "") || !allDigits(intPart) || !allDigits(frac) {
		return zero, fmt.Errorf("%q is not a plain decimal like \"1234.50\"", truncate(s, 30))
	}
	if len(frac) > maxPlaces {
		return zero, fmt.Errorf("%q has more than %d decimals", s, maxPlaces)
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return zero, fmt.Errorf("%q is not a decimal: %w", s, err)
	}
	return d, nil
}

// ParseMoney parses a non-negative amount of money with at most two decimals
// and at most MaxMoney.
func ParseMoney(s string) (decimal.Decimal, error) {
	d, err := ParseDecimal(s, 2)
	if err != nil {
		return zero, err
	}
	if d.IsNegative() {
		return zero, fmt.Errorf("%q is negative", s)
	}
	if d.GreaterThan(maxMoney) {
		return zero, fmt.Errorf("%q is above the limit of %s", s, MaxMoney)
	}
	return d, nil
}

// ParseRatio parses a ratio in [0, 1] with at most four decimals.
func ParseRatio(s string) (decimal.Decimal, error) {
	d, err := ParseDecimal(s, 4)
	if err != nil {
		return zero, err
	}
	if d.IsNegative() || d.GreaterThan(one) {
		return zero, fmt.Errorf("ratio %q is outside [0, 1]", s)
	}
	return d, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func minDec(a, b decimal.Decimal) decimal.Decimal {
	if a.LessThan(b) {
		return a
	}
	return b
}

func maxDec(a, b decimal.Decimal) decimal.Decimal {
	if a.GreaterThan(b) {
		return a
	}
	return b
}
