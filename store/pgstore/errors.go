package pgstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/medsettle/medsettle/store"
)

// translate turns driver errors into store errors, once, at the boundary:
// no rows → store.ErrNotFound, unique violation → store.ErrConflict, a
// connection that failed or a server shutting down → store.ErrUnavailable.
// Context errors pass through. Anything else (a scan into the wrong type,
// a value that does not decode, an SQL error) is a bug, not an outage: it
// is returned as it is, and the API answers it INTERNAL rather than
// telling the client to retry. Call it only on errors from pgx.
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
	if unreachable(err) {
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return err
}

// errClosedPool is the text of puddle's ErrClosedPool, which pgxpool
// returns once the pool is closed (the server is shutting down).
const errClosedPool = "closed pool"

// unreachable reports whether err says the database could not be reached
// or the connection broke: a failed connect, a network error, a connection
// closed under the request (EOF), a driver timeout, or an error pgconn
// guarantees happened before anything was sent. Only these may be retried
// with the same request id.
func unreachable(err error) bool {
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	switch {
	case errors.As(err, &connectErr),
		errors.As(err, &netErr),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, net.ErrClosed),
		errors.Is(err, pgconn.ErrConnClosed),
		pgconn.Timeout(err),
		pgconn.SafeToRetry(err):
		return true
	}
	for e := err; e != nil; e = errors.Unwrap(e) {
		if e.Error() == errClosedPool {
			return true
		}
	}
	return false
}
