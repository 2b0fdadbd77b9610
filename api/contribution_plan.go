package api

import (
	"context"
	"fmt"
	"math"

	"github.com/medsettle/medsettle/engine"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// planCheckEvery is how many rows ExportPlan writes between two looks at
// its context (the store looks too; sending to a client that went away
// fails as well).
const planCheckEvery = 1024

// planWriter quotes and sends the rows of one collection plan and sums
// its totals. A row costs no allocation: the one message is reused (each
// Send encodes it before returning, and the server's stats handlers keep
// no message), and the amounts' texts are rendered once per basis
// category, since with one contribution a person's subsidy and payable
// amount depend on the basis alone.
type planWriter struct {
	ctx          context.Context
	contribution *engine.Contribution
	asOf         engine.Date
	send         func(*pb.ExportPlanResponse) error

	totals engine.PlanTotals
	msg    pb.ExportPlanResponse
	result pb.ExportPlanResponse_Row
	row    pb.PlanRow
	// amount is the contribution's text; texts holds the subsidy and
	// payable texts of each basis, rendered at its first person.
	amount string
	texts  [len(engine.PlanTotals{}.ByCategory)]planTexts
}

// planTexts are the rendered amounts of one basis category.
type planTexts struct {
	set     bool
	subsidy engine.Money
	payable engine.Money
	texts   [2]string
}

// newPlanWriter starts a plan of contribution c with the identities held
// on asOf, sending each message with send.
func newPlanWriter(ctx context.Context, c *engine.Contribution, asOf engine.Date, send func(*pb.ExportPlanResponse) error) *planWriter {
	w := &planWriter{ctx: ctx, contribution: c, asOf: asOf, send: send, amount: engine.FormatMoney(c.Amount)}
	w.result.Row = &w.row
	w.msg.Result = &w.result
	return w
}

// add quotes one person and sends the row (store.EachPerson's fn).
func (w *planWriter) add(p engine.Person) error {
	if w.totals.Persons%planCheckEvery == 0 {
		if err := w.ctx.Err(); err != nil {
			return err
		}
	}
	q := w.contribution.Quote(p, w.asOf)
	if w.totals.Persons == math.MaxInt32 {
		return fmt.Errorf("%w: more than %d persons", errPlanRange, math.MaxInt32)
	}
	if err := w.totals.Add(q); err != nil {
		return fmt.Errorf("%w: %w", errPlanRange, err)
	}
	w.row.PersonId = p.ID
	w.row.Contribution = w.amount
	w.row.Subsidy, w.row.Payable = w.basisTexts(q)
	w.row.BasisCategory = pb.PersonCategory(q.Basis)
	if err := w.send(&w.msg); err != nil {
		return fmt.Errorf("send the row of person %s: %w", p.ID, err)
	}
	return nil
}

// basisTexts are the subsidy and payable texts of q, rendered once per basis
// (again only if a basis were to come with other amounts).
func (w *planWriter) basisTexts(q engine.ContributionQuote) (subsidy, payable string) {
	if int(q.Basis) >= len(w.texts) || q.Basis < 0 {
		return engine.FormatMoney(q.Subsidy), engine.FormatMoney(q.Payable)
	}
	t := &w.texts[q.Basis]
	if !t.set || !t.subsidy.Equal(q.Subsidy) || !t.payable.Equal(q.Payable) {
		*t = planTexts{set: true, subsidy: q.Subsidy, payable: q.Payable,
			texts: [2]string{engine.FormatMoney(q.Subsidy), engine.FormatMoney(q.Payable)}}
	}
	return t.texts[0], t.texts[1]
}

// finish sends the totals, the last message: the subsidised categories
// (those with persons) in enum order.
func (w *planWriter) finish() error {
	t := &w.totals
	out := &pb.PlanTotals{Persons: int32(t.Persons)}
	var texts moneyTexts
	texts.add(&out.Contribution, t.Contribution)
	texts.add(&out.Subsidy, t.Subsidy)
	texts.add(&out.Payable, t.Payable)
	for c, ct := range t.ByCategory {
		if ct.Persons == 0 {
			continue
		}
		bc := &pb.PlanCategoryTotal{Category: pb.PersonCategory(c), Persons: int32(ct.Persons)}
		texts.add(&bc.Subsidy, ct.Subsidy)
		out.ByCategory = append(out.ByCategory, bc)
	}
	texts.flush()
	if err := w.send(&pb.ExportPlanResponse{Result: &pb.ExportPlanResponse_Totals{Totals: out}}); err != nil {
		return fmt.Errorf("send the totals: %w", err)
	}
	return nil
}
