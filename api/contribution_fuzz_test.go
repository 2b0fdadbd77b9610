package api

import (
	"fmt"
	"testing"

	"google.golang.org/protobuf/proto"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// FuzzContributionSection reads fuzzed contribution sections (an amount
// and two subsidies): policyFromProto must not panic, and must either
// accept a section whose rendering reads back to the same section, or
// name exactly the bad fields, each decided here from the text alone.
func FuzzContributionSection(f *testing.F) {
	f.Add("380", int32(2), true, "", int32(3), false, "340")
	f.Add("380", int32(3), false, "340", int32(4), false, "190")
	f.Add("380", int32(3), false, "380.01", int32(3), true, "")
	f.Add("", int32(1), true, "1", int32(0), false, "")
	f.Add("0", int32(2), true, "", int32(5), false, "0.01")
	f.Add("-1", int32(9), false, "0", int32(-1), true, "0")
	f.Add("1000000000000", int32(5), false, "1000000000000.00", int32(4), false, "1e3")
	f.Add("380.001", int32(4), false, "380.00", int32(2), false, " 1")
	f.Fuzz(func(t *testing.T, amount string, cat0 int32, full0 bool, amount0 string, cat1 int32, full1 bool, amount1 string) {
		section := &pb.Contribution{Amount: amount, Subsidies: []*pb.Subsidy{
			{Category: pb.PersonCategory(cat0), Full: full0, Amount: amount0},
			{Category: pb.PersonCategory(cat1), Full: full1, Amount: amount1},
		}}
		pol, err := policyFromProto(contributionPolicy("R1", section))

		const sub = "policy.contribution.subsidies"
		want := map[string]bool{}
		contribution, amountOK := goodMoney(amount)
		if !amountOK {
			want["policy.contribution.amount"] = true
		}
		subsidisable := func(c int32) bool { return c >= 2 && c <= 5 }
		subsidies := []struct {
			cat    int32
			full   bool
			amount string
		}{{cat0, full0, amount0}, {cat1, full1, amount1}}
		for i, s := range subsidies {
			path := fmt.Sprintf("%s[%d]", sub, i)
			if !subsidisable(s.cat) || i == 1 && s.cat == cat0 {
				want[path+".category"] = true
			}
			switch {
			case s.full:
				if s.amount != "" {
					want[path+".amount"] = true
				}
			default:
				v, ok := goodMoney(s.amount)
				if !ok || !v.IsPositive() || amountOK && v.GreaterThan(contribution) {
					want[path+".amount"] = true
				}
			}
		}
		if err != nil {
			sameFields(t, want, violations(t, err, "policy.contribution"), err)
			return
		}
		if len(want) > 0 {
			t.Fatalf("policyFromProto accepted a section with bad fields %v", want)
		}
		again, err := policyFromProto(policyToProto(pol))
		if err != nil {
			t.Fatalf("an accepted section does not read again from its own rendering: %v", err)
		}
		if a, b := contributionToProto(pol.Contribution), contributionToProto(again.Contribution); !proto.Equal(a, b) {
			t.Fatalf("the section reads back as %v, not %v", b, a)
		}
	})
}
