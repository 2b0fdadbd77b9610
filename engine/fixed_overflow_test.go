package engine_test

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/medsettle/medsettle/engine"
)

// TestOverflowPanics: an overflowing sum or difference panics with an
// error wrapping ErrInvariant whose message names the operands, as the
// server's recovery logs it (the panic value is built out of line so
// that the checked arithmetic inlines).
func TestOverflowPanics(t *testing.T) {
	fen := engine.MoneyFromFen
	for _, c := range []struct {
		f    func()
		want string
	}{
		{func() { fen(math.MaxInt64).Add(fen(1)) }, "fixed-point overflow adding 9223372036854775807 and 1"},
		{func() { fen(math.MinInt64).Add(fen(-1)) }, "fixed-point overflow adding -9223372036854775808 and -1"},
		{func() { fen(-1).Sub(fen(math.MinInt64)) }, "fixed-point overflow subtracting -9223372036854775808 from -1"},
		{func() { fen(math.MinInt64).Sub(fen(1)) }, "fixed-point overflow adding -9223372036854775808 and -1"},
		{func() { fen(math.MinInt64).Neg() }, "fixed-point overflow subtracting -9223372036854775808 from 0"},
	} {
		got := func() (r any) {
			defer func() { r = recover() }()
			c.f()
			return nil
		}()
		err, ok := got.(error)
		if !ok || !errors.Is(err, engine.ErrInvariant) {
			t.Fatalf("panic %v is not an ErrInvariant error", got)
		}
		if want := engine.ErrInvariant.Error() + ": " + c.want; fmt.Sprint(got) != want {
			t.Errorf("panic %q, want %q", fmt.Sprint(got), want)
		}
	}
}
