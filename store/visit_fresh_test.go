package store

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/medsettle/medsettle/engine"
)

// oldNewFeeDetails is NewFeeDetails as it was before FreshFeeDetails
// (maps for the SNs seen and in conflict): the judge of the rewrite.
func oldNewFeeDetails(visitID string, live map[string]FeeDetail, lines []FeeDetail) ([]FeeDetail, error) {
	seen := make(map[string]FeeDetail, len(lines))
	conflict := map[string]bool{}
	var conflicts []string
	var fresh []FeeDetail
	for _, d := range lines {
		d.VisitID = visitID
		prev, ok := live[d.SN]
		if !ok {
			prev, ok = seen[d.SN]
		}
		switch {
		case !ok:
			seen[d.SN] = d
			fresh = append(fresh, d)
		case !prev.SameContent(d) && !conflict[d.SN]:
			conflict[d.SN] = true
			conflicts = append(conflicts, d.SN)
		}
	}
	if len(conflicts) > 0 {
		return nil, &DetailConflictError{SNs: conflicts}
	}
	return fresh, nil
}

// randomFeeDetail is a line of SN sn whose content is one of variants
// (and whose VisitID is one of two), so that lines of one SN are the same
// or not as the test wants.
func randomFeeDetail(r *rand.Rand, sn string, variants int) FeeDetail {
	return FeeDetail{VisitID: fmt.Sprint("other", r.IntN(2)), SN: sn, Batch: fmt.Sprint("B", r.IntN(variants)),
		Code: "X", Name: "n", Quantity: engine.QuantityOf(int64(r.IntN(variants))), UnitPrice: engine.MustPrice("1"),
		Amount: engine.MoneyFromFen(int64(r.IntN(variants))), FeeTime: "t", MedType: "m"}
}

// TestNewFeeDetailsAsBefore compares NewFeeDetails, and FreshFeeDetails
// on the same lines, with the implementation they replaced on random
// uploads, short (SNs compared) and long (a map), with and without live
// lines, repeated SNs and conflicts: the same lines (VisitID set, nil
// when none), the same conflicts in the same order.
func TestNewFeeDetailsAsBefore(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	kinds := map[string]int{}
	for range 20000 {
		n := r.IntN(3 * freshScanMax)
		sns := 1 + r.IntN(n+1)
		if r.IntN(4) == 0 {
			sns = 1 << 20 // SNs nearly always distinct
		}
		variants := 1
		if r.IntN(3) == 0 {
			variants = 2
		}
		lines := make([]FeeDetail, n)
		for i := range lines {
			lines[i] = randomFeeDetail(r, fmt.Sprint(r.IntN(sns)), variants)
		}
		live := map[string]FeeDetail{}
		for range r.IntN(4) {
			sn := fmt.Sprint(r.IntN(sns + 2))
			live[sn] = randomFeeDetail(r, sn, variants)
		}
		if r.IntN(4) == 0 {
			live = nil
		}
		want, wantErr := oldNewFeeDetails("V1", live, lines)
		got, err := NewFeeDetails("V1", live, lines)
		if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(err, wantErr) {
			t.Fatalf("NewFeeDetails(live %v, lines %v) = %v, %v; want %v, %v", live, lines, got, err, want, wantErr)
		}
		prefix := []int{-7}
		idx, err := FreshFeeDetails(lines, func(sn string) (FeeDetail, bool) { d, ok := live[sn]; return d, ok }, prefix)
		if !reflect.DeepEqual(err, wantErr) || idx[0] != -7 || len(idx)-1 != len(want) && wantErr == nil || wantErr != nil && len(idx) != 1 {
			t.Fatalf("FreshFeeDetails(live %v, lines %v) = %v, %v; want %d lines after the prefix, %v", live, lines, idx, err, len(want), wantErr)
		}
		for k, i := range idx[1:] {
			if d := lines[i]; d.SN != want[k].SN || !d.SameContent(want[k]) {
				t.Fatalf("FreshFeeDetails(live %v, lines %v)[%d] = line %d (%v); want %v", live, lines, k, i, d, want[k])
			}
		}
		var conflict *DetailConflictError
		switch {
		case errors.As(err, &conflict):
			kinds["conflict"]++
		case len(want) == 0:
			kinds["none"]++
		case len(want) < n:
			kinds["some"]++
		default:
			kinds["all"]++
		}
		if n > freshScanMax {
			kinds["long"]++
		}
	}
	for _, k := range []string{"conflict", "none", "some", "all", "long"} {
		if kinds[k] < 500 {
			t.Errorf("only %d uploads of kind %s: %v", kinds[k], k, kinds)
		}
	}
}

// TestFreshFeeDetailsAsksLiveOfItsSNs holds FreshFeeDetails to asking
// live only of the SNs of lines, and its answer's VisitID to not
// mattering.
func TestFreshFeeDetailsAsksLiveOfItsSNs(t *testing.T) {
	lines := []FeeDetail{{SN: "a", Code: "1"}, {SN: "b", Code: "2"}, {SN: "a", Code: "1"}}
	var asked []string
	idx, err := FreshFeeDetails(lines, func(sn string) (FeeDetail, bool) {
		asked = append(asked, sn)
		if sn == "b" {
			return FeeDetail{VisitID: "elsewhere", SN: "b", Code: "2"}, true
		}
		return FeeDetail{}, false
	}, nil)
	if err != nil || !reflect.DeepEqual(idx, []int{0}) || !reflect.DeepEqual(asked, []string{"a", "b", "a"}) {
		t.Fatalf("FreshFeeDetails = %v, %v, asked %v; want [0], nil, asked [a b a]", idx, err, asked)
	}
	lines[1].Code = "3"
	if _, err := FreshFeeDetails(lines, func(sn string) (FeeDetail, bool) {
		return FeeDetail{SN: sn, Code: "2"}, sn == "b"
	}, nil); !reflect.DeepEqual(err, &DetailConflictError{SNs: []string{"b"}}) {
		t.Fatalf("FreshFeeDetails with b changed: %v; want a conflict on b", err)
	}
}
