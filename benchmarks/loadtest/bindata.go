package main

import (
	"bufio"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"time"

	"google.golang.org/protobuf/encoding/protodelim"

	medsettlev1 "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// ghz builds a request from a JSON template (text/template, then JSON to a
// dynamic message) for every call whose data has template actions, which
// costs it about three times the CPU of an empty call. Data without
// actions it parses once, before its clock starts, and binary data given
// as several length-prefixed messages (--binary-file) it sends
// round-robin by request number (request n gets message n mod N). So every
// PreSettle and Settle run gets a file of N distinct requests, N more than
// the run can send, and ghz's cost per call is that of sending a ready
// message.

// people is whom a row's claims are for: prefix0 … prefix(n-1), one drawn
// at random for each request.
type people struct {
	prefix string
	n      int
}

// settleRequest is the 6-line inpatient claim of claimItems at QZ-H3 for
// person, with request id id.
func settleRequest(id, person string) *medsettlev1.SettleRequest {
	items := make([]*medsettlev1.LineItem, len(claimItems))
	for i, it := range claimItems {
		items[i] = &medsettlev1.LineItem{Code: it["code"], Name: it["name"], Quantity: it["quantity"],
			UnitPrice: it["unitPrice"], Amount: it["amount"]}
	}
	return &medsettlev1.SettleRequest{
		RequestId:     id,
		InstitutionId: "QZ-H3",
		PersonId:      person,
		VisitType:     medsettlev1.VisitType_VISIT_TYPE_INPATIENT,
		SettleDate:    "2026-06-15",
		Items:         items,
	}
}

// writeRequests writes n claims for who to path, each prefixed with its
// length as a varint (protodelim's framing, which is ghz's
// count-delimited binary data): request i has id prefix-i and a person
// drawn by rng.
func writeRequests(path, prefix string, who people, n int, rng *rand.Rand) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("request file: %w", err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("request file: %w", cerr)
		}
	}()
	w := bufio.NewWriterSize(f, 1<<16)
	req := settleRequest("", "")
	for i := range n {
		req.RequestId = prefix + "-" + strconv.Itoa(i)
		req.PersonId = who.prefix + strconv.Itoa(rng.IntN(who.n))
		if _, err := protodelim.MarshalTo(w, req); err != nil {
			return fmt.Errorf("request file: %w", err)
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("request file: %w", err)
	}
	return nil
}

// fallbackRate sizes a request file when no rate has been seen yet on the
// server: the empty RPC's rate on a quiet machine in issue 9, ≈ 50,700/s.
const fallbackRate = 60000

// rates remembers the best rate each row (by call id) reached on one
// server, to size the next request files: a file big enough for any rate
// would cost ghz memory and parsing it had no use for.
type rates map[string]float64

// note records a run of row id at rps.
func (r rates) note(id string, rps float64) {
	r[id] = max(r[id], rps)
}

// requests is how many distinct requests a run of row id lasting d with
// concurrency calls in flight is given: for twice the row's best rate so
// far (a warm-up's, with the server still cold, can be well under a
// round's) but at least half the best rate of any row (issue 9's target
// for the embedded store), or, before the row has run, for 1.5 times the
// best rate of any row (the empty RPC runs first, and no row is faster). ghz holds
// every request in memory (about 3.5 KB each as a dynamic message) and
// parses them all before it starts (about 17 µs each on a busy 2-core
// machine), so the file is not made bigger than a run needs; a run that
// outgrows it is run again with a bigger one (runGhz).
func (r rates) requests(id string, d time.Duration, concurrency int) int {
	best := 0.0
	for _, v := range r {
		best = max(best, v)
	}
	if own := r[id]; own > 0 {
		return requestsFor(max(2*own, best/2), d, concurrency)
	}
	if best == 0 {
		best = fallbackRate
	}
	return requestsFor(1.5*best, d, concurrency)
}

// requestsFor is how many distinct requests a run of d at rate calls a
// second needs: rate × d, the calls that may be in flight when the run
// ends, and a margin.
func requestsFor(rate float64, d time.Duration, concurrency int) int {
	return int(math.Ceil(rate*d.Seconds())) + concurrency + 1000
}

// exhausted says whether a run that reported count calls, with up to
// concurrency more left out in flight, may have used a request twice:
// ghz numbers every call it starts, 0, 1, …, and request n is message
// n mod N of the file.
func exhausted(count uint64, concurrency, n int) bool {
	return count+uint64(concurrency) > uint64(n)
}

// voidIfExhausted turns every call of a run that may have sent a request
// id twice and ended OK into an error (a repeated Settle is an idempotent replay, cheaper
// than a settlement, and would inflate the rate), so that its row fails
// and says why.
func voidIfExhausted(rep *report, concurrency, n int) {
	if !exhausted(rep.Count, concurrency, n) {
		return
	}
	msg := fmt.Sprintf("loadtest: %d calls (and up to %d in flight) for %d distinct request ids, so some ids may have repeated; the run is void — run again",
		rep.Count, concurrency, n)
	if rep.ErrorDist == nil {
		rep.ErrorDist = map[string]int{}
	}
	if rep.StatusCodeDist == nil {
		rep.StatusCodeDist = map[string]int{}
	}
	ok := rep.StatusCodeDist["OK"]
	rep.ErrorDist[msg] += ok
	rep.StatusCodeDist["OK"] = 0
	rep.StatusCodeDist["RequestIdsExhausted"] += ok
}
