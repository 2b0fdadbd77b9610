package national

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/medsettle/medsettle/engine"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
	"github.com/medsettle/medsettle/store"
)

// settleRequestID is the Settle request id of a visit's next settlement:
// the visit and how many of its settlements were reversed, so that any
// repeated 2207/2304 (whatever its msgid) settles once, and the first one
// after a reversal settles anew (DECISIONS.md).
func settleRequestID(v store.Visit) string {
	return "NAT-" + v.ID + "-" + strconv.Itoa(v.Generation)
}

// settlesVisit reports whether settlement st is one of visit v's: settled
// by the visit's institution for its person under one of the visit's
// request ids, settleRequestID of a generation up to v's.
func settlesVisit(v store.Visit, st engine.Settlement) bool {
	gen, ok := strings.CutPrefix(st.Claim.RequestID, "NAT-"+v.ID+"-")
	if !ok || st.Claim.InstitutionID != v.InstitutionID || st.Claim.PersonID != v.PersonID {
		return false
	}
	n, err := strconv.Atoi(gen)
	return err == nil && n >= 0 && n <= v.Generation && strconv.Itoa(n) == gen
}

// reverseRequestID is the ReverseSettlement request id of a settlement's
// reversal: a retry answers the first reversal.
func reverseRequestID(settlementID string) string { return "NAT-R-" + settlementID }

// reverseReason is the reason every gateway reversal gives: the same on a
// retry (the reason is part of what makes a reversal the same request).
func reverseReason(infno string) string { return "国家接口 " + infno + " 撤销结算" }

// claimLines reads the live details of the claim (outpatient: of the
// charge batch; inpatient: of the visit) as line items, and their sum
// (claimItems).
func claimLines(ctx context.Context, g *Gateway, v store.Visit, batch string) ([]*pb.LineItem, engine.Money, error) {
	details, err := g.visits.FeeDetails(ctx, v.ID, batch)
	if err != nil {
		return nil, engine.Money{}, fmt.Errorf("reading the details of visit %q: %w", v.ID, err)
	}
	return claimItems(v, batch, details)
}

// claimItems is the live details of the claim as read (of batch, "" for
// an inpatient claim) as line items, and their sum. No live detail is
// refused.
func claimItems(v store.Visit, batch string, details []store.FeeDetail) ([]*pb.LineItem, engine.Money, error) {
	if len(details) == 0 {
		if batch != "" {
			return nil, engine.Money{}, refuse("就诊 %s 收费批次 %s 没有未撤销的费用明细，请先上传明细（2204）再结算", v.ID, clip(batch, 30))
		}
		return nil, engine.Money{}, refuse("就诊 %s 没有未撤销的费用明细，请先上传明细（2301）再结算", v.ID)
	}
	// The items are one array, and their figures' texts (as String
	// writes them) one string, each a slice of it.
	var textBuf [512]byte
	var endBuf [3 * 32]int
	texts, ends := textBuf[:0], endBuf[:0]
	if len(details) > len(endBuf)/3 {
		ends = make([]int, 0, 3*len(details))
	}
	for _, d := range details {
		texts = appendShortest(texts, d.Quantity.Scaled(), 4)
		ends = append(ends, len(texts))
		texts = appendShortest(texts, d.UnitPrice.Scaled(), 6)
		ends = append(ends, len(texts))
		texts = d.Amount.AppendFixed(texts)
		ends = append(ends, len(texts))
	}
	all := string(texts)
	lines := make([]pb.LineItem, len(details))
	items := make([]*pb.LineItem, len(details))
	var sum engine.Money
	start := 0
	for i, d := range details {
		it := &lines[i]
		e := ends[3*i : 3*i+3]
		it.Code, it.Name = d.Code, d.Name
		it.Quantity, it.UnitPrice, it.Amount = all[start:e[0]], all[e[0]:e[1]], all[e[1]:e[2]]
		start = e[2]
		items[i] = it
		sum = sum.Add(d.Amount)
	}
	return items, sum, nil
}

// appendShortest appends units × 10^-scale in its shortest exact form, as
// the engine's String methods of Quantity, Price and Ratio write it ("2",
// "0.5", "-1.25").
func appendShortest(b []byte, units int64, scale int) []byte {
	start := len(b)
	b = engine.AppendScaled(b, units, scale)
	if scale == 0 {
		return b
	}
	end := len(b)
	for end > start && b[end-1] == '0' {
		end--
	}
	if b[end-1] == '.' {
		end--
	}
	return b[:end]
}

// knownDRG is code when the policy that settles the person on date lists
// it as a DRG group, else "": an unknown code leaves the case ungrouped
// for clearing rather than failing the settlement (GATEWAY.md "Settling a
// visit"). When no policy can be found, the code is kept: the settlement
// then fails for the want of a policy, as over gRPC.
func knownDRG(ctx context.Context, g *Gateway, p engine.Person, date, code string) (string, error) {
	if code == "" {
		return "", nil
	}
	d, err := engine.ParseDate(date)
	if err != nil {
		return "", fmt.Errorf("settle date %q: %w", date, err)
	}
	policies, err := g.store.Policies(ctx, p.Region, p.Scheme)
	if err != nil {
		return "", fmt.Errorf("reading the policies of %s: %w", p.Region, err)
	}
	policy, err := engine.SelectPolicy(policies, p.Region, p.Scheme, d)
	if err != nil || policy.HasDRG(code) {
		return code, nil
	}
	return "", nil
}
