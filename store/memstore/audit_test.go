package memstore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/medsettle/medsettle/store"
)

// TestAuditLogAcrossChunks appends events to many small chunks and reads
// them back page by page from several starting points: every event comes
// once, in order, with its id, whatever chunk it is in.
func TestAuditLogAcrossChunks(t *testing.T) {
	ctx := context.Background()
	s := New()
	s.audit.events.chunkSize = 1000 // about 40 events
	const auditChunk = 4096
	const n = 2*auditChunk + 123
	at := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	for i := range n {
		id, err := s.AppendAudit(ctx, store.AuditEvent{Time: at, Method: "/m", RequestID: fmt.Sprintf("r%d", i+1), ResultIDs: []string{"S"}})
		if err != nil || id != int64(i+1) {
			t.Fatalf("append %d: id %d, %v", i+1, id, err)
		}
	}
	for _, after := range []int64{0, auditChunk - 1, auditChunk, auditChunk + 1, n - 5, n} {
		next := after
		for {
			page, err := s.AuditEvents(ctx, store.AuditFilter{After: next, Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			for _, e := range page {
				next++
				if e.ID != next || e.RequestID != fmt.Sprintf("r%d", next) {
					t.Fatalf("after %d: event %d (%s), want %d", after, e.ID, e.RequestID, next)
				}
			}
		}
		if next != n {
			t.Fatalf("after %d: read up to %d of %d", after, next, n)
		}
	}
	// A filter that skips most events still pages across chunks.
	page, err := s.AuditEvents(ctx, store.AuditFilter{RequestID: fmt.Sprintf("r%d", auditChunk+7)})
	if err != nil || len(page) != 1 || page[0].ID != auditChunk+7 {
		t.Fatalf("by request id: %v, %v", page, err)
	}
}

// TestAuditEventRoundTrip: an event, every field set or not, decodes to
// what was encoded (the time in UTC to the microsecond, as AppendAudit
// keeps it).
func TestAuditEventRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 5000 {
		var e store.AuditEvent
		v := reflect.ValueOf(&e).Elem()
		for f := range v.NumField() {
			switch fv := v.Field(f); fv.Kind() {
			case reflect.String:
				fv.SetString(randomString(r))
			case reflect.Int64, reflect.Int32:
				fv.SetInt(randomInt64(r))
				if fv.Kind() == reflect.Int32 {
					fv.SetInt(int64(int32(randomInt64(r))))
				}
			case reflect.Slice:
				if k := r.IntN(3); k > 0 {
					ids := make([]string, r.IntN(4)*(k-1))
					for j := range ids {
						ids[j] = randomString(r)
					}
					fv.Set(reflect.ValueOf(ids))
				}
			case reflect.Struct: // the time
				at := time.Unix(r.Int64N(1<<40)-1<<39, r.Int64N(1e9)).UTC().Truncate(time.Microsecond)
				fv.Set(reflect.ValueOf(at))
			default:
				t.Fatalf("no filler for %s", v.Type().Field(f).Name)
			}
		}
		e.ID = 0
		got, err := decodeAuditEvent(appendAuditEvent(nil, &e))
		if err != nil || !reflect.DeepEqual(got, e) {
			t.Fatalf("event %d: decoded %#v, %v; want %#v", i, got, err, e)
		}
	}
}

// TestAuditMayMatch: the encoded prefilter never turns away an event the
// filter's Match takes, and turns away what Match refuses, for random
// events and filters built from their fields.
func TestAuditMayMatch(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	pick := func(vals ...string) string { return vals[r.IntN(len(vals))] }
	at := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	for i := range 20000 {
		e := store.AuditEvent{
			Time: at.Add(time.Duration(r.IntN(5)) * time.Microsecond), Method: pick("/a", "/b", ""),
			CallerInstitution: pick("H1", "H2", ""), InstitutionID: pick("H1", "H3", ""),
			PersonID: pick("P1", "P2", ""), RequestID: pick("R1", "R2", ""), Code: int32(r.IntN(3)),
			Region: pick("X", ""), ResultIDs: []string{pick("S1", "S2")},
		}
		f := store.AuditFilter{
			Method: pick("/a", "/b", ""), Institution: pick("H1", "H2", "H3", ""), PersonID: pick("P1", "P2", ""),
			RequestID: pick("R1", "R2", ""), HasCode: r.IntN(2) == 1, Code: int32(r.IntN(3)),
		}
		if r.IntN(3) == 0 {
			f.From = at.Add(time.Duration(r.IntN(5)) * time.Microsecond)
		}
		if r.IntN(3) == 0 {
			f.To = at.Add(time.Duration(r.IntN(5)) * time.Microsecond)
		}
		if got, want := mayMatch(appendAuditEvent(nil, &e), &f), f.Match(e); got != want {
			t.Fatalf("case %d: mayMatch %v, Match %v for %+v with %+v", i, got, want, e, f)
		}
	}
}

// TestAuditEventsByRequestIndex: a filter with a request id, answered
// through the index, lists exactly what a scan of every event with Match
// lists, for random logs, filters, starting points and limits. In every
// other round the events of every request id are indexed under R1's hash,
// as if all their hashes were the same, and only R1 and R4 (of no event)
// are asked for: R1's chain then holds every event with a request id, and
// the filter must tell them apart.
func TestAuditEventsByRequestIndex(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(7, 8))
	pick := func(vals ...string) string { return vals[r.IntN(len(vals))] }
	at := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	for round := range 50 {
		s := New()
		var all []store.AuditEvent
		for range r.IntN(300) {
			e := store.AuditEvent{Time: at, Method: pick("/a", "/b"), InstitutionID: pick("H1", "H2"),
				RequestID: pick("R1", "R2", "R3", ""), Code: int32(r.IntN(2))}
			id, err := s.AppendAudit(ctx, e)
			if err != nil {
				t.Fatal(err)
			}
			e.ID = id
			all = append(all, e)
		}
		rids := []string{"R1", "R2", "R3", "R4"}
		if round%2 == 1 {
			for i, h := range s.audit.hashes {
				if h != 0 {
					s.audit.hashes[i] = requestHash("R1")
				}
			}
			rids = []string{"R1", "R4"}
		}
		for range 20 {
			f := store.AuditFilter{RequestID: pick(rids...), Method: pick("/a", ""),
				Institution: pick("H1", ""), After: int64(r.IntN(len(all) + 2)), Limit: 1 + r.IntN(40)}
			var want []store.AuditEvent
			for _, e := range all {
				if e.ID > f.After && f.Match(e) && len(want) < f.PageLimit() {
					want = append(want, e)
				}
			}
			got, err := s.AuditEvents(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) || (len(want) > 0 && !reflect.DeepEqual(got, want)) {
				t.Fatalf("round %d, filter %+v: got %d events, want %d", round, f, len(got), len(want))
			}
		}
	}
}

// TestAuditEventsByRequestWhileAppending: queries by request id, made
// while events are appended, each list what a scan of the log would at
// some moment of the query: every event that matches and was appended
// before the query began (within its limit), in order, and none that was
// not yet appended when it ended. The queries bring the index up to date
// from a snapshot of the log's hashes, outside its lock, while the writer
// appends to them: run it with -race.
func TestAuditEventsByRequestWhileAppending(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(9, 10))
	at := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	const n, requestIDs = 20000, 300
	all := make([]store.AuditEvent, n) // event ID i+1, as it will be read back
	byRequest := map[string][]int{}    // the indexes in all of each request id's events
	for i := range all {
		rid := ""
		if k := r.IntN(requestIDs + 30); k < requestIDs {
			rid = fmt.Sprintf("R%d", k)
			byRequest[rid] = append(byRequest[rid], i)
		}
		method := []string{"/a", "/b"}[r.IntN(2)]
		all[i] = store.AuditEvent{ID: int64(i) + 1, Time: at, Method: method, RequestID: rid}
	}
	s := New()
	var appended atomic.Int64 // the events whose AppendAudit has returned
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range all {
			e := all[i]
			e.ID = 0
			if id, err := s.AppendAudit(ctx, e); err != nil || id != int64(i)+1 {
				t.Errorf("append %d: id %d, %v", i+1, id, err)
				return
			}
			appended.Store(int64(i) + 1)
			if i%100 == 99 { // let the queries run between appends, on a machine of few cores too
				time.Sleep(100 * time.Microsecond)
			}
		}
	})
	for q := range 3 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(11, uint64(q)))
			for appended.Load() < n/4 { // the first query indexes thousands of events at once
				time.Sleep(100 * time.Microsecond)
			}
			for queries := 0; appended.Load() < n; queries++ {
				if queries%16 == 0 { // now and then, let appends pile up for one catch-up
					time.Sleep(time.Duration(r.IntN(1000)) * time.Microsecond)
				}
				f := store.AuditFilter{RequestID: fmt.Sprintf("R%d", r.IntN(requestIDs+2)),
					Method: []string{"/a", ""}[r.IntN(2)], Limit: 1 + r.IntN(200)}
				if r.IntN(4) == 0 {
					f.After = r.Int64N(appended.Load() + 1)
				}
				before := appended.Load()
				got, err := s.AuditEvents(ctx, f)
				end := appended.Load()
				if err != nil {
					t.Error(err)
					return
				}
				// all matching, in order; the answer must be a prefix of it
				var want []store.AuditEvent
				for _, i := range byRequest[f.RequestID] {
					if all[i].ID > f.After && f.Match(all[i]) {
						want = append(want, all[i])
					}
				}
				need := 0 // those appended before the query began, within the limit
				for need < len(want) && need < f.PageLimit() && want[need].ID <= before {
					need++
				}
				ok := len(got) >= need && len(got) <= min(len(want), f.PageLimit()) &&
					(len(got) == 0 || reflect.DeepEqual(got, want[:len(got)])) &&
					(len(got) == 0 || got[len(got)-1].ID <= end+1) // end+1: perhaps appended, not yet counted
				if !ok {
					t.Errorf("filter %+v, appended %d to %d: got %d events, want the first %d to %d of %d",
						f, before, end, len(got), need, min(len(want), f.PageLimit()), len(want))
					return
				}
			}
		})
	}
	wg.Wait()
}
