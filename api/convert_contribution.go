package api

import (
	"github.com/medsettle/medsettle/engine"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// maxContribution stands for a contribution amount that is missing or did
// not parse, once that is reported: no subsidy is above it, so that a bad
// amount is reported once, not again as "subsidy above the contribution"
// for every subsidy.
var maxContribution = engine.MustMoney(engine.MaxMoney)

// contribution reads a policy's contribution section at path
// ("policy.contribution"): the amount is required; a subsidy gives
// exactly one of full and amount. engine.ValidatePolicy checks the rest
// (categories, a category twice, an amount above the contribution).
func (p *parser) contribution(path string, in *pb.Contribution) *engine.Contribution {
	out := &engine.Contribution{}
	before := p.v.Len()
	if in.GetAmount() == "" {
		p.v.Addf(path+".amount", "is required: the yearly contribution, money ≥ 0 with at most two decimals, like \"380.00\"")
	} else {
		out.Amount = p.money(path+".amount", in.GetAmount())
	}
	readable := p.v.Len() == before
	subsidies := path + ".subsidies"
	rows := limitRows(p, subsidies, in.GetSubsidies())
	if len(rows) > 0 {
		out.Subsidies = make([]engine.Subsidy, 0, len(rows))
	}
	for i, s := range rows {
		p.enumAt(engine.IndexPath(subsidies, i, "category"), int32(s.GetCategory()), pb.PersonCategory_name)
		sub := engine.Subsidy{Category: engine.Category(s.GetCategory()), Full: s.GetFull()}
		amount := engine.IndexPath(subsidies, i, "amount")
		switch {
		case s.GetFull() && s.GetAmount() != "":
			p.v.AddAtf(amount, "must be empty when full is set: give exactly one of full or amount")
		case s.GetFull():
		case s.GetAmount() == "":
			p.v.AddAtf(amount, "is required unless full is set: give exactly one of full or amount")
		default:
			sub.Amount = p.moneyAt(amount, s.GetAmount())
		}
		out.Subsidies = append(out.Subsidies, sub)
	}
	if !readable {
		out.Amount = maxContribution
	}
	return out
}

// contributionToProto renders a contribution section: amounts with two
// decimals, a full subsidy without an amount.
func contributionToProto(c *engine.Contribution) *pb.Contribution {
	if c == nil {
		return nil
	}
	out := &pb.Contribution{Amount: engine.FormatMoney(c.Amount)}
	if len(c.Subsidies) > 0 {
		out.Subsidies = make([]*pb.Subsidy, 0, len(c.Subsidies))
	}
	for _, s := range c.Subsidies {
		ps := &pb.Subsidy{Category: pb.PersonCategory(s.Category), Full: s.Full}
		if !s.Full {
			ps.Amount = engine.FormatMoney(s.Amount)
		}
		out.Subsidies = append(out.Subsidies, ps)
	}
	return out
}
