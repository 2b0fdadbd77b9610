package national

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/medsettle/medsettle/api"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
	"github.com/medsettle/medsettle/store"
)

// cancelInput is a 2202 input cancelling visit v.
func cancelInput(v store.Visit) string {
	return `{"data":{"mdtrt_id":"` + v.ID + `","psn_no":"` + v.PersonID + `"}}`
}

// TestReverseRetryAnswersFirstReversal: a 2208 retried answers the first
// reversal byte for byte (figures, setl_time, medins_setl_id, balc) and
// changes nothing, whatever happened since: the account moved (another
// visit settled with it), the visit settled again, reversed again,
// cancelled. GATEWAY.md: "2208/2305 are idempotent on setl_id: a retry
// answers the first reversal".
func TestReverseRetryAnswersFirstReversal(t *testing.T) {
	for _, tc := range []struct {
		name  string
		since func(f *stFixture, v store.Visit)
	}{
		{"the account moved", func(f *stFixture, _ store.Visit) {
			f.ok("2207", outpatientInput(f.s1Outpatient(), "450", ""))
		}},
		{"the visit settled again", func(f *stFixture, v store.Visit) {
			f.ok("2207", outpatientInput(v, "450", ""))
		}},
		{"the visit settled and reversed again", func(f *stFixture, v store.Visit) {
			out := f.ok("2207", outpatientInput(v, "450", ""))
			f.ok("2208", reversal(strings.Trim(field(t, out, "setlinfo.setl_id"), `"`), v))
		}},
		{"the visit cancelled", func(f *stFixture, v store.Visit) {
			f.ok("2202", cancelInput(v))
		}},
		{"the visit settled, reversed again and cancelled", func(f *stFixture, v store.Visit) {
			out := f.ok("2207", outpatientInput(v, "450", ""))
			f.ok("2208", reversal(strings.Trim(field(t, out, "setlinfo.setl_id"), `"`), v))
			f.ok("2202", cancelInput(v))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newStFixture(t)
			v := f.s1Outpatient()
			out := f.ok("2207", outpatientInput(v, "450", s1OutpatientFigures))
			settling := f.msgid
			id := strings.Trim(field(t, out, "setlinfo.setl_id"), `"`)
			f.clock.add(time.Minute)
			rev := f.ok("2208", reversal(id, v))
			if got := field(t, rev, "setlinfo.balc"); got != "1000.00" {
				t.Fatalf("2208 answered balc %s, want 1000.00", got)
			}
			if got := field(t, rev, "setlinfo.medins_setl_id"); got != `"`+settling+`"` {
				t.Fatalf("2208 answered medins_setl_id %s, want %q", got, settling)
			}
			if got := field(t, rev, "setlinfo.setl_time"); got != `"2025-03-04 13:07:07"` {
				t.Fatalf("2208 answered setl_time %s, want the reversal's", got)
			}
			f.clock.add(time.Hour)
			tc.since(f, v)
			f.clock.add(time.Hour)
			before := f.state()
			if again := f.ok("2208", reversal(id, v)); again != rev {
				t.Errorf("2208 retried after %s answered\n%s\nthe first\n%s", tc.name, again, rev)
			}
			if after := f.state(); after != before {
				t.Errorf("2208 retried after %s changed the state:\nbefore %s\nafter  %s", tc.name, before, after)
			}
		})
	}
}

// TestReverseRetryRefusals: a setl_id the gateway's own reversal did not
// reverse is still refused, changing nothing: one reversed over gRPC
// (reversing twice), before and after the visit settled anew; one the
// gateway reversed because its visit was cancelled before the settlement
// could be marked (no 2208 ever answered it); another visit's reversed
// settlement, sent with this visit, whether this one was settled or not.
func TestReverseRetryRefusals(t *testing.T) {
	ctx := api.WithPrincipal(context.Background(), api.Principal{Role: api.RoleInstitution, Institution: "H1"})
	t.Run("reversed over gRPC", func(t *testing.T) {
		f := newStFixture(t)
		v := f.s1Outpatient()
		out := f.ok("2207", outpatientInput(v, "450", ""))
		id := strings.Trim(field(t, out, "setlinfo.setl_id"), `"`)
		if _, err := f.local.ReverseSettlement(ctx, &pb.ReverseSettlementRequest{RequestId: "R1", SettlementId: id}); err != nil {
			t.Fatal(err)
		}
		if msg := f.refused("H1", "2208", reversal(id, v)); !strings.Contains(msg, "已冲正") {
			t.Errorf("2208 of a settlement reversed over gRPC: %s", msg)
		}
		// The next 2207 reopens the visit and settles anew: the settlement
		// reversed over gRPC is still not the gateway's to answer.
		again := f.ok("2207", outpatientInput(v, "450", ""))
		second := strings.Trim(field(t, again, "setlinfo.setl_id"), `"`)
		if msg := f.refused("H1", "2208", reversal(id, v)); !strings.Contains(msg, "setl_id "+id+" 不是就诊") ||
			!strings.Contains(msg, second) {
			t.Errorf("2208 of a settlement reversed over gRPC, the visit settled anew: %s", msg)
		}
		f.ok("2208", reversal(second, v))
		if msg := f.refused("H1", "2208", reversal(id, v)); !strings.Contains(msg, "请勿重复撤销") {
			t.Errorf("2208 of a settlement reversed over gRPC, the visit reopened: %s", msg)
		}
	})
	t.Run("undone for a cancelled visit", func(t *testing.T) {
		f := newStFixture(t)
		v := f.s1Outpatient()
		id := f.settleLikeGateway(v, "2025-03-04")
		f.g.visits = cancellingVisits{f.st}
		if r, _ := f.tx("H1", "2207", "M1", outpatientInput(v, "450", "")); r.Infcode != "-1" {
			t.Fatalf("2207 of a visit cancelled meanwhile: %s", r.Infcode)
		}
		f.g.visits = f.st
		if s := f.grpcSettlement(id); s.GetState() != pb.SettlementState_SETTLEMENT_STATE_REVERSED {
			t.Fatalf("fixture: the settlement is %v", s.GetState())
		}
		if msg := f.refused("H1", "2208", reversal(id, v)); !strings.Contains(msg, "已撤销") {
			t.Errorf("2208 of the settlement undone for a cancelled visit: %s", msg)
		}
	})
	t.Run("another visit's", func(t *testing.T) {
		f := newStFixture(t)
		other := f.s1Outpatient()
		out := f.ok("2207", outpatientInput(other, "450", ""))
		id := strings.Trim(field(t, out, "setlinfo.setl_id"), `"`)
		f.ok("2208", reversal(id, other))
		never := f.s1Outpatient()
		if msg := f.refused("H1", "2208", reversal(id, never)); !strings.Contains(msg, "尚未结算") {
			t.Errorf("2208 of another visit's reversed settlement, this one never settled: %s", msg)
		}
		v := f.s1Outpatient()
		own := strings.Trim(field(t, f.ok("2207", outpatientInput(v, "450", "")), "setlinfo.setl_id"), `"`)
		if msg := f.refused("H1", "2208", reversal(id, v)); !strings.Contains(msg, "setl_id "+id+" 不是就诊") {
			t.Errorf("2208 of another visit's reversed settlement, this one settled: %s", msg)
		}
		f.ok("2208", reversal(own, v))
		if msg := f.refused("H1", "2208", reversal(id, v)); !strings.Contains(msg, "请勿重复撤销") {
			t.Errorf("2208 of another visit's reversed settlement, this one reversed: %s", msg)
		}
		f.ok("2202", cancelInput(v))
		if msg := f.refused("H1", "2208", reversal(id, v)); !strings.Contains(msg, "已撤销") {
			t.Errorf("2208 of another visit's reversed settlement, this one cancelled: %s", msg)
		}
	})
}
