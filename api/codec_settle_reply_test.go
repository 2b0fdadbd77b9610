package api

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/medsettle/medsettle/engine"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// TestMarshalSettleResponseAsProto: marshalSettleResponse encodes random
// answers (empty and absent fields, negative and unknown enum values,
// texts long and short, ASCII and not, many details, answers over
// gRPC's pooling threshold) byte for byte as proto.Marshal does, and
// leaves to the codec what it must not encode itself: invalid UTF-8 (which
// proto.Marshal refuses), unknown fields, line items.
func TestMarshalSettleResponseAsProto(t *testing.T) {
	r := rand.New(rand.NewPCG(27, 11))
	text := func() string {
		switch r.IntN(8) {
		case 0:
			return ""
		case 1:
			return strings.Repeat("医保", r.IntN(80))
		case 2:
			if r.IntN(20) == 0 {
				return "bad\xff"
			}
			return strings.Repeat("x", r.IntN(300))
		default:
			return engine.FormatMoney(engine.MoneyFromFen(r.Int64N(1e12) - 5e11))
		}
	}
	enum := func() int32 {
		switch r.IntN(4) {
		case 0:
			return 0
		case 1:
			return -r.Int32N(1 << 20)
		default:
			return r.Int32N(1 << 20)
		}
	}
	for i := range 20000 {
		m := &pb.SettleResponse{}
		if r.IntN(20) > 0 {
			s := &pb.Settlement{SettlementId: text(), RequestId: text(), InstitutionId: text(), PersonId: text(),
				VisitType: pb.VisitType(enum()), SettleDate: text(), PolicyVersion: text(), State: pb.SettlementState(enum()),
				CrossRegion: pb.CrossRegion(enum()), DrgCode: text(), ReversalReason: text()}
			if r.IntN(4) > 0 {
				s.Breakdown = &pb.Breakdown{Total: text(), OutOfScope: text(), OverLimit: text(), PreSelfPay: text(), InScope: text(),
					Deductible: text(), BasicFund: text(), OverCap: text(), Catastrophic: text(), MedicalAid: text(),
					FundTotal: text(), PersonalTotal: text(), Account: text(), Cash: text()}
			}
			for range r.IntN(12) {
				s.Details = append(s.Details, &pb.FundDetail{Fund: pb.Fund(enum()), Band: enum(), Ratio: text(), Base: text(), Amount: text()})
			}
			if r.IntN(3) > 0 {
				s.Budget = &pb.BudgetStatus{Year: enum(), Limit: text(), Used: text(), State: pb.BudgetState(enum())}
			}
			if r.IntN(50) == 0 {
				s.Items = []*pb.LineItem{{Code: "X"}}
			}
			m.Settlement = s
		}
		if i%97 == 0 {
			// Unknown fields, on the answer or on a message inside it.
			var target proto.Message = m
			if s := m.GetSettlement(); s != nil && i%2 == 1 {
				target = s
			}
			target.ProtoReflect().SetUnknown([]byte{0xf8, 0x01, 0x01})
		}
		want, wantErr := proto.Marshal(m)
		got, ok := marshalSettleResponse(m)
		if !ok {
			if wantErr == nil && len(m.ProtoReflect().GetUnknown()) == 0 && (m.GetSettlement() == nil || len(m.GetSettlement().ProtoReflect().GetUnknown()) == 0) &&
				len(m.GetSettlement().GetItems()) == 0 {
				t.Fatalf("answer %d left to the codec, which encodes it: %v", i, m)
			}
			continue
		}
		if wantErr != nil {
			t.Fatalf("answer %d encoded; proto.Marshal refuses it: %v", i, wantErr)
		}
		if b := got.Materialize(); !bytes.Equal(b, want) {
			t.Fatalf("answer %d:\n got % x\nwant % x", i, b, want)
		}
		got.Free()
	}
}

// TestSettleAnswerThroughCodec: a settlement's answer, as the service
// makes it, goes through marshalSettleResponse and decodes back equal.
func TestSettleAnswerThroughCodec(t *testing.T) {
	budget := engine.BudgetStatus{Year: 2026, Limit: engine.Yuan(1000), Used: engine.Yuan(10), State: engine.BudgetWarning}
	st := engine.Settlement{ID: "S1", Claim: engine.Claim{RequestID: "r1", InstitutionID: "H1", PersonID: "P1"},
		Result: engine.Result{PolicyVersion: "v1", Breakdown: engine.Breakdown{Total: engine.Yuan(12)},
			Details: []engine.Detail{{Fund: engine.FundBasic, Band: 1, Ratio: engine.MustRatio("0.9"), Base: engine.Yuan(10), Amount: engine.Yuan(9)}},
			Budget:  &budget}}
	resp := settleResponse(st)
	data, err := newGuardCodec().Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := marshalSettleResponse(resp); !ok {
		t.Fatal("a settlement's answer was left to the protobuf codec")
	}
	back := &pb.SettleResponse{}
	if err := proto.Unmarshal(data.Materialize(), back); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(back, resp) {
		t.Errorf("decoded %v, sent %v", back, resp)
	}
}
