package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/medsettle/medsettle/store"
)

// translate turns driver errors into store errors, once, at the boundary:
// no rows → store.ErrNotFound, unique violation → store.ErrConflict, a
// connection that failed or a server shutting down → store.ErrUnavailable.
// Context errors pass through. Call it only on errors from pgx.
func translate(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%w: %w", store.ErrNotFound, err)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == "23505": // unique_violation
			return fmt.Errorf("%w: %w", store.ErrConflict, err)
		case pgErr.Code == "57P01", pgErr.Code == "57P02", pgErr.Code == "57P03", // shutdown, crash, cannot connect now
			pgErr.Code == "53300",               // too many connections
			strings.HasPrefix(pgErr.Code, "08"): // connection exceptions
			return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
		}
		return err
	}
	// Anything else the driver returns comes from the connection (dial
	// failures, resets, "conn closed", timeouts): the database is out of
	// reach and the request may be retried with the same request id.
	return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
}
