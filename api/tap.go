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
// reflection) and open mode pass.
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
	case !t.Open():
		p, err := t.authenticateMD(info.Header)
		if err != nil {
			return nil, err
		}
		rc.caller = p.String()
	}
	rc.Context, rc.cancel = context.WithCancel(ctx)
	return rc, nil
}

// callerKey is who a call is from, for the shares of the guard's places:
// the principal of its credentials, the client's address for the public
// services, "" in open mode (no shares).
func callerKey(ctx context.Context) string {
	if rc, ok := ctx.Value(readCtxKey{}).(*readCtx); ok {
		return rc.caller
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
}

type readCtxKey struct{}

// Value finds the readCtx itself under readCtxKey.
func (c *readCtx) Value(key any) any {
	if key == (readCtxKey{}) {
		return c
	}
	return c.Context.Value(key)
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
