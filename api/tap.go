package api

import (
	"context"
	"net"
	"sync/atomic"

	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/tap"
)

// tapAuth runs when a call's headers arrive, before any of its message is
// read (grpc.InTapHandle): a call to a medsettle service without valid
// credentials ends there with UNAUTHENTICATED, so a caller without a token
// costs the server its headers and nothing more. UnaryAuth and StreamAuth
// still find the principal for the handlers. Public services (health,
// reflection) and open mode pass. (A refused call with a deadline ends
// in the guard instead, still before its message is read: see below.)
//
// grpc-go runs a tap handle on the connection's reader goroutine: it must
// not block, and checking a token (a SHA-256 and a comparison with each
// entry) does not.
//
// The context it returns becomes the call's: a readCtx, which the guard's
// read timer expires.
func (t *Tokens) tapAuth(ctx context.Context, info *tap.Info) (context.Context, error) {
	rc := &readCtx{}
	switch {
	case publicService(info.FullMethodName):
		// Anybody: shares are per address.
		if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
			host, _, err := net.SplitHostPort(p.Addr.String())
			if err != nil {
				host = p.Addr.String()
			}
			rc.caller = "address " + host
		}
	default:
		e, err := t.entryMD(info.Header)
		if err == nil {
			rc.caller, rc.principal = e.caller, e.boxed
			break
		}
		if _, ok := ctx.Deadline(); !ok {
			return nil, err
		}
		// gRPC-Go (1.85) does not release the deadline timer of a call its
		// tap handle refuses, nor the call's context with it, until the
		// deadline passes, and a client may ask for years: such a call
		// goes on, and the guard refuses it before reading its message.
		rc.refused = err
	}
	rc.Context, rc.cancel = context.WithCancel(ctx)
	return rc, nil
}

// refusal is why tapAuth refused a call it let through (see tapAuth).
func refusal(ctx context.Context) error {
	if rc, ok := ctx.Value(readCtxKey{}).(*readCtx); ok {
		return rc.refused
	}
	return nil
}

// callerKey is who a call is from, for the shares of the guard's places:
// the principal of its credentials (of a Local call: its WithPrincipal),
// the client's address for the public services, "" in open mode (no
// shares).
func callerKey(ctx context.Context) string {
	if rc, ok := ctx.Value(readCtxKey{}).(*readCtx); ok {
		return rc.caller
	}
	// A Local call's caller (WithPrincipal).
	if c, ok := ctx.Value(localCallerKey{}).(string); ok {
		return c
	}
	return ""
}

// readCtx is a call's context as tapAuth makes it. When expire ends it,
// it reports context.DeadlineExceeded, so that grpc-go's read of the
// message fails, and the call ends, with DEADLINE_EXCEEDED.
type readCtx struct {
	context.Context
	cancel  context.CancelFunc
	expired atomic.Bool
	caller  string // callerKey
	// principal is the caller's Principal (boxed once per token,
	// tokenEntry) once tapAuth has authenticated the call, which
	// UnaryAuth and StreamAuth then take as it is; nil for a public
	// service or a refused call.
	principal any
	// refused is why the call is refused (credentials), left for the
	// guard to answer.
	refused error
}

type readCtxKey struct{}

// Value finds the readCtx itself under readCtxKey, and the principal
// tapAuth found under principalKey.
func (c *readCtx) Value(key any) any {
	switch key {
	case readCtxKey{}:
		return c
	case principalKey{}:
		if c.principal != nil {
			return c.principal
		}
	}
	return c.Context.Value(key)
}

// tapAuthenticated reports whether tapAuth authenticated the call of ctx
// (its principal is then in ctx).
func tapAuthenticated(ctx context.Context) bool {
	rc, ok := ctx.Value(readCtxKey{}).(*readCtx)
	return ok && rc.principal != nil
}

// Err is DeadlineExceeded once expired.
func (c *readCtx) Err() error {
	err := c.Context.Err()
	if err != nil && c.expired.Load() {
		return context.DeadlineExceeded
	}
	return err
}

// expire ends the call.
func (c *readCtx) expire() {
	c.expired.Store(true)
	c.cancel()
}
