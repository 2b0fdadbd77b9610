package main

import (
	"bufio"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protodelim"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	medsettlev1 "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// TestWriteRequests reads a request file back the way ghz splits it (a
// varint length, then that many bytes of message, until the end) and
// checks that every request is the claim, for one of the row's persons,
// with an id of its own.
func TestWriteRequests(t *testing.T) {
	path := filepath.Join(t.TempDir(), "settle.bin")
	const n = 3000
	if err := writeRequests(path, "lt-abcd1234-settle-r2", people{"LT", 2000}, n, rand.New(rand.NewPCG(1, 2))); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// ghz's framing, by hand: varint length, message.
	var framed int
	for rest := raw; len(rest) > 0; framed++ {
		size, k := protowire.ConsumeVarint(rest)
		if k < 0 || uint64(len(rest)-k) < size {
			t.Fatalf("message %d: bad frame", framed)
		}
		rest = rest[k+int(size):]
	}
	if framed != n {
		t.Fatalf("%d framed messages, want %d", framed, n)
	}
	want := settleRequest("", "")
	ids := map[string]bool{}
	persons := map[string]int{}
	r := bufio.NewReader(strings.NewReader(string(raw)))
	for i := 0; ; i++ {
		var req medsettlev1.SettleRequest
		err := protodelim.UnmarshalFrom(r, &req)
		if errors.Is(err, io.EOF) {
			if i != n {
				t.Fatalf("%d requests, want %d", i, n)
			}
			break
		}
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if req.RequestId != "lt-abcd1234-settle-r2-"+strconv.Itoa(i) || ids[req.RequestId] {
			t.Fatalf("request %d has id %q", i, req.RequestId)
		}
		ids[req.RequestId] = true
		num, perr := strconv.Atoi(strings.TrimPrefix(req.PersonId, "LT"))
		if !strings.HasPrefix(req.PersonId, "LT") || perr != nil || num < 0 || num >= 2000 {
			t.Fatalf("request %d for person %q", i, req.PersonId)
		}
		persons[req.PersonId]++
		req.RequestId, req.PersonId = "", ""
		if !proto.Equal(&req, want) {
			t.Fatalf("request %d is %v, want the claim %v", i, &req, want)
		}
	}
	// 3,000 draws over 2,000 persons reach most of them (1 - e^-1.5 ≈ 78 %).
	if len(persons) < 1400 {
		t.Fatalf("3,000 requests reach only %d of 2,000 persons", len(persons))
	}
	if want.VisitType != medsettlev1.VisitType_VISIT_TYPE_INPATIENT || want.InstitutionId != "QZ-H3" || len(want.Items) != 6 ||
		want.Items[4].Code != "B-STENT" || want.Items[4].Amount != "9800.00" || want.Items[3].Quantity != "33.3333" {
		t.Fatalf("claim %v", want)
	}
}

// TestWriteRequestsBusyWard: five persons, each drawn.
func TestWriteRequestsBusyWard(t *testing.T) {
	path := filepath.Join(t.TempDir(), "settle5.bin")
	if err := writeRequests(path, "p", people{"B", 5}, 500, rand.New(rand.NewPCG(3, 4))); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := bufio.NewReader(f)
	seen := map[string]int{}
	for {
		var req medsettlev1.SettleRequest
		if err := protodelim.UnmarshalFrom(r, &req); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		seen[req.PersonId]++
	}
	if len(seen) != 5 || seen["B0"] == 0 || seen["B4"] == 0 || seen["B5"] != 0 {
		t.Fatalf("persons %v", seen)
	}
}

func TestRatesRequests(t *testing.T) {
	r := rates{}
	// Nothing seen yet: issue 9's quiet-machine rate, with room.
	if got := r.requests("settle", 3*time.Second, 64); got != 4.5*fallbackRate+64+1000 {
		t.Fatalf("no rate: %d", got)
	}
	r.note("health", 10000)
	r.note("health", 8000) // the best is kept
	if got := r.requests("settle", 3*time.Second, 64); got != 45000+64+1000 {
		t.Fatalf("before Settle ran: %d, want 1.5 × the empty RPC's 10,000/s over 3 s + 1,064", got)
	}
	r.note("settle", 3000)
	if got := r.requests("settle", 3*time.Second, 64); got != 18000+64+1000 {
		t.Fatalf("after: %d, want 2 × Settle's 3,000/s over 3 s + 1,064", got)
	}
	r.note("presettle", 1000) // a cold warm-up
	if got := r.requests("presettle", 3*time.Second, 64); got != 15000+64+1000 {
		t.Fatalf("after a slow run: %d, want half the empty RPC's 10,000/s over 3 s + 1,064", got)
	}
}

func TestVoidIfExhausted(t *testing.T) {
	// 1,000 ids: 936 reported calls and 64 in flight may have used them
	// all, not more.
	rep := report{Count: 936, StatusCodeDist: map[string]int{"OK": 936}}
	voidIfExhausted(&rep, 64, 1000)
	if len(rep.ErrorDist) != 0 || rep.StatusCodeDist["OK"] != 936 {
		t.Fatalf("936 + 64 calls for 1,000 ids voided: %+v", rep)
	}
	rep = report{Count: 937, StatusCodeDist: map[string]int{"OK": 930, "Unavailable": 7}}
	voidIfExhausted(&rep, 64, 1000)
	if f := aggregate([]report{rep}); f.errors != 937 || len(f.errDist) != 1 || rep.StatusCodeDist["OK"] != 0 {
		t.Fatalf("937 + 64 calls for 1,000 ids: %d errors, %v", f.errors, f.errDist)
	}
	for msg := range rep.ErrorDist {
		if !strings.Contains(msg, "937 calls (and up to 64 in flight) for 1000 distinct request ids") {
			t.Fatalf("message %q", msg)
		}
	}
}
