package pgstore

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/medsettle/medsettle/store"
)

// TestTranslateBugsAreNotOutages: only errors of reaching the database
// become store.ErrUnavailable; a scan or decoding error is passed on as
// it is (the API answers it INTERNAL), never "retry".
func TestTranslateBugsAreNotOutages(t *testing.T) {
	_, numErr := strconv.Atoi("x")
	bugs := map[string]error{
		"scan":        fmt.Errorf("can't scan into dest[3] (col: scheme): cannot scan text (OID 25) in text format into *int16"),
		"decode":      fmt.Errorf("decode accumulators: %w", numErr),
		"syntax":      &pgconn.PgError{Code: "42601", Message: "syntax error"},
		"check":       &pgconn.PgError{Code: "23514", Message: "check violation"},
		"plain error": errors.New("unexpected value"),
	}
	for name, err := range bugs {
		got := translate(err)
		if errors.Is(got, store.ErrUnavailable) {
			t.Errorf("%s: translate(%v) = %v, is ErrUnavailable", name, err, got)
		}
		if !errors.Is(got, err) {
			t.Errorf("%s: translate(%v) = %v, does not wrap the driver's error", name, err, got)
		}
	}
	outages := map[string]error{
		"connect":              &pgconn.ConnectError{Config: &pgconn.Config{}},
		"net":                  &net.OpError{Op: "read", Err: errors.New("connection reset by peer")},
		"eof":                  fmt.Errorf("receive message: %w", io.ErrUnexpectedEOF),
		"plain eof":            io.EOF,
		"conn closed":          fmt.Errorf("query: %w", pgconn.ErrConnClosed),
		"closed pool":          fmt.Errorf("acquire: %w", errors.New("closed pool")),
		"admin shutdown":       &pgconn.PgError{Code: "57P01"},
		"connection exception": &pgconn.PgError{Code: "08006"},
	}
	for name, err := range outages {
		if got := translate(err); !errors.Is(got, store.ErrUnavailable) {
			t.Errorf("%s: translate(%v) = %v, want ErrUnavailable", name, err, got)
		}
	}
}
