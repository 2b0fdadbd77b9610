package national

import (
	"context"
	"testing"
	"time"
)

type principalTestKey struct{}

// TestPrincipalCtxValues: principalCtx answers its values first, then the
// request's, and is cancelled with the request.
func TestPrincipalCtxValues(t *testing.T) {
	deadline := time.Now().Add(time.Hour)
	parent, cancel := context.WithDeadline(context.WithValue(context.Background(), principalTestKey{}, "req"), deadline)
	vals := context.WithValue(context.Background(), principalTestKey{}, "principal")
	pc := &principalCtx{Context: parent, vals: vals}
	if v := pc.Value(principalTestKey{}); v != "principal" {
		t.Fatalf("own value: %v", v)
	}
	pc2 := &principalCtx{Context: parent, vals: context.Background()}
	if v := pc2.Value(principalTestKey{}); v != "req" {
		t.Fatalf("request's value: %v", v)
	}
	if d, ok := pc.Deadline(); !ok || !d.Equal(deadline) {
		t.Fatalf("deadline %v %v", d, ok)
	}
	child, childCancel := context.WithCancel(pc)
	defer childCancel()
	cancel()
	select {
	case <-child.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("a child of the principal context was not cancelled with the request")
	}
	if pc.Err() != context.Canceled || context.Cause(child) != context.Canceled {
		t.Fatalf("errors %v %v", pc.Err(), context.Cause(child))
	}
}
