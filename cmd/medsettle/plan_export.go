package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/medsettle/medsettle/engine"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// planRow is one person's row of a plan, its amounts parsed.
type planRow struct {
	personID                       string
	contribution, subsidy, payable engine.Money
	basis                          pb.PersonCategory
}

// planSums adds up the rows as they arrive, to check them against the
// server's totals.
type planSums struct {
	persons                        int64
	contribution, subsidy, payable engine.Money
	byCategory                     map[pb.PersonCategory]*categorySum
}

// categorySum is the persons and subsidy of one basis category.
type categorySum struct {
	persons int64
	subsidy engine.Money
}

// add adds one row; an error when a sum would overflow.
func (s *planSums) add(r planRow) error {
	c, ok1 := s.contribution.AddChecked(r.contribution)
	sb, ok2 := s.subsidy.AddChecked(r.subsidy)
	p, ok3 := s.payable.AddChecked(r.payable)
	if !ok1 || !ok2 || !ok3 {
		return fmt.Errorf("the plan's sums overflow after %d persons", s.persons)
	}
	s.persons++
	s.contribution, s.subsidy, s.payable = c, sb, p
	if r.basis != pb.PersonCategory_PERSON_CATEGORY_UNSPECIFIED {
		if s.byCategory == nil {
			s.byCategory = map[pb.PersonCategory]*categorySum{}
		}
		cs := s.byCategory[r.basis]
		if cs == nil {
			cs = &categorySum{}
			s.byCategory[r.basis] = cs
		}
		cs.persons++
		cs.subsidy = cs.subsidy.Add(r.subsidy) // at most sb, which did not overflow
	}
	return nil
}

// check compares the sums with the server's totals and names every
// figure that differs.
func (s *planSums) check(t *pb.PlanTotals) error {
	var diffs []string
	if int64(t.GetPersons()) != s.persons {
		diffs = append(diffs, fmt.Sprintf("persons %d, rows %d", t.GetPersons(), s.persons))
	}
	for _, f := range []struct {
		name, total string
		sum         engine.Money
	}{{"contribution", t.GetContribution(), s.contribution}, {"subsidy", t.GetSubsidy(), s.subsidy}, {"payable", t.GetPayable(), s.payable}} {
		if !moneyTextEquals(f.total, f.sum) {
			diffs = append(diffs, fmt.Sprintf("%s %q, rows %s", f.name, f.total, f.sum))
		}
	}
	listed := map[pb.PersonCategory]bool{}
	for _, c := range t.GetByCategory() {
		listed[c.GetCategory()] = true
		var want categorySum
		if cs := s.byCategory[c.GetCategory()]; cs != nil {
			want = *cs
		}
		if int64(c.GetPersons()) != want.persons || !moneyTextEquals(c.GetSubsidy(), want.subsidy) {
			diffs = append(diffs, fmt.Sprintf("%s: %d persons, subsidy %q; rows %d persons, subsidy %s",
				categoryWord(c.GetCategory()), c.GetPersons(), c.GetSubsidy(), want.persons, want.subsidy))
		}
	}
	cats := make([]pb.PersonCategory, 0, len(s.byCategory))
	for cat := range s.byCategory {
		cats = append(cats, cat)
	}
	slices.Sort(cats)
	for _, cat := range cats {
		if cs := s.byCategory[cat]; !listed[cat] {
			diffs = append(diffs, fmt.Sprintf("%s: not in the totals; rows %d persons, subsidy %s", categoryWord(cat), cs.persons, cs.subsidy))
		}
	}
	if len(diffs) > 0 {
		return fmt.Errorf("the server's totals disagree with its rows (%s)", strings.Join(diffs, "; "))
	}
	return nil
}

// moneyTextEquals reports whether the API amount text is m.
func moneyTextEquals(text string, m engine.Money) bool {
	var v engine.Money
	return v.UnmarshalText([]byte(text)) == nil && v.Equal(m)
}

// rowFromPB parses a row the server sent: amounts of money, payable =
// contribution − subsidy.
func rowFromPB(r *pb.PlanRow) (planRow, error) {
	row := planRow{personID: r.GetPersonId(), basis: r.GetBasisCategory()}
	if row.personID == "" {
		return row, errors.New("a row without person_id")
	}
	var errs []error
	for _, f := range []struct {
		name, text string
		dst        *engine.Money
	}{{"contribution", r.GetContribution(), &row.contribution}, {"subsidy", r.GetSubsidy(), &row.subsidy}, {"payable", r.GetPayable(), &row.payable}} {
		m, err := engine.ParseMoney(f.text)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.name, err))
		}
		*f.dst = m
	}
	if err := errors.Join(errs...); err != nil {
		return row, fmt.Errorf("the row of %s: %w", row.personID, err)
	}
	if !row.contribution.Sub(row.subsidy).Equal(row.payable) {
		return row, fmt.Errorf("the row of %s: payable %s is not contribution %s − subsidy %s", row.personID, row.payable, row.contribution, row.subsidy)
	}
	return row, nil
}

// exportPlan calls ExportPlan and hands each row to sink, in the order
// the server sends them, which must be by person_id. It returns the
// totals, the stream's last message, once they match the rows.
func exportPlan(ctx context.Context, client pb.ContributionServiceClient, req *pb.ExportPlanRequest, sink func(planRow) error) (*pb.PlanTotals, int64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := client.ExportPlan(ctx, req)
	if err != nil {
		return nil, 0, err
	}
	var sums planSums
	var last string
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil, sums.persons, fmt.Errorf("the server ended the plan after %d rows without its totals", sums.persons)
		}
		if err != nil {
			return nil, sums.persons, err
		}
		if t := msg.GetTotals(); t != nil {
			if err := sums.check(t); err != nil {
				return nil, sums.persons, err
			}
			return t, sums.persons, nil
		}
		row, err := rowFromPB(msg.GetRow())
		if err != nil {
			return nil, sums.persons, fmt.Errorf("the server sent a bad row: %w", err)
		}
		if sums.persons > 0 && row.personID <= last {
			return nil, sums.persons, fmt.Errorf("the server sent %s after %s: a plan's rows come by person_id, each once", row.personID, last)
		}
		last = row.personID
		if err := sums.add(row); err != nil {
			return nil, sums.persons, err
		}
		if err := sink(row); err != nil {
			return nil, sums.persons, err
		}
	}
}

// categoryWord is a category's short name (MINIMUM_LIVING), empty for
// none.
func categoryWord(c pb.PersonCategory) string {
	if c == pb.PersonCategory_PERSON_CATEGORY_UNSPECIFIED {
		return ""
	}
	return strings.TrimPrefix(c.String(), "PERSON_CATEGORY_")
}
