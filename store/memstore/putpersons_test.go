package memstore

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/medsettle/medsettle/engine"
)

func batchOf(n int, name string) []engine.Person {
	ps := make([]engine.Person, n)
	for i := range ps {
		ps[i] = engine.Person{ID: fmt.Sprintf("P%02d", i), Name: name, Region: "R1", Scheme: engine.SchemeResident,
			AccountBalance: engine.Yuan(int64(i))}
	}
	return ps
}

// visible counts the persons of ps stored with their name, read in one
// step under the store's mutex.
func (s *Store) visible(ps []engine.Person) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 0
	for _, p := range ps {
		if stored, _ := s.person(p.ID); stored.Name == p.Name {
			n++
		}
	}
	return n
}

// TestPutPersonsWaitsForSettlements: while a settlement holds the lock of
// one person of a batch, PutPersons stores none of the batch; when the
// settlement ends, all of it at once. A settlement never sees half a batch.
func TestPutPersonsWaitsForSettlements(t *testing.T) {
	s := New()
	ps := batchOf(20, "batch")
	p10 := s.lockPerson("P10") // a settlement of P10 in progress
	done := make(chan error, 1)
	go func() { done <- s.PutPersons(context.Background(), ps) }()
	time.Sleep(50 * time.Millisecond)
	if n := s.visible(ps); n != 0 {
		t.Errorf("while P10's settlement runs, %d of %d persons of the batch are stored, want none", n, len(ps))
	}
	p10.Unlock()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := s.visible(ps); n != len(ps) {
		t.Errorf("after the batch, %d of %d persons are stored", n, len(ps))
	}
}

// TestPutPersonsIsOneStep: a reader holding the store's mutex sees every
// batch whole, never the persons of one batch beside those of another.
func TestPutPersonsIsOneStep(t *testing.T) {
	s := New()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := s.PutPersons(context.Background(), batchOf(50, fmt.Sprint("v", i))); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	deadline := time.Now().Add(300 * time.Millisecond)
	for time.Now().Before(deadline) {
		s.mu.RLock()
		names := map[string]bool{}
		for i := range 50 {
			if p, ok := s.person(fmt.Sprintf("P%02d", i)); ok {
				names[p.Name] = true
			}
		}
		s.mu.RUnlock()
		if len(names) > 1 {
			t.Errorf("one read saw persons of %d batches: %v", len(names), names)
			break
		}
	}
	close(stop)
	<-done
}
