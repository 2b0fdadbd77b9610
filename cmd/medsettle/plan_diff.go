package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"

	"github.com/medsettle/medsettle/engine"
)

// diffColumns is the header of a plan diff.
var diffColumns = []string{"person_id", "status", "previous_payable", "payable", "change"}

// planDiff compares a new plan, row by row as it arrives, with a previous
// plan read alongside: both are sorted by person_id, so one pass over
// each (a merge join) finds the changed, added and removed persons with
// one row of each in memory.
type planDiff struct {
	prev *previousPlan
	next planRow // the previous plan's next row, when have
	have bool
	out  *csv.Writer
	rec  [5]string

	changed, added, removed, same int64
	// change is the sum of the change column: the new total payable less
	// the previous one.
	change engine.Money
}

// newPlanDiff writes the diff's header to out and reads prev's first row.
func newPlanDiff(prev *previousPlan, out io.Writer) (*planDiff, error) {
	d := &planDiff{prev: prev, out: csv.NewWriter(out)}
	if err := d.out.Write(diffColumns); err != nil {
		return nil, err
	}
	return d, d.advance()
}

// advance reads the previous plan's next row. The file was checked
// before the run, so a bad row now means it changed since.
func (d *planDiff) advance() error {
	row, ok, err := d.prev.next()
	var rp *rowProblem
	if errors.As(err, &rp) {
		return fmt.Errorf("%s changed during the run: %w", d.prev.path, err)
	}
	if err != nil {
		return err
	}
	d.next, d.have = row, ok
	return nil
}

// add takes the new plan's next row.
func (d *planDiff) add(r planRow) error {
	for d.have && d.next.personID < r.personID {
		if err := d.emit(d.next.personID, "removed", &d.next.payable, nil); err != nil {
			return err
		}
		if err := d.advance(); err != nil {
			return err
		}
	}
	if d.have && d.next.personID == r.personID {
		var err error
		if d.next.payable.Equal(r.payable) {
			d.same++
		} else {
			err = d.emit(r.personID, "changed", &d.next.payable, &r.payable)
		}
		if err == nil {
			err = d.advance()
		}
		return err
	}
	return d.emit(r.personID, "added", nil, &r.payable)
}

// finish lists the previous plan's persons past the new plan's last as
// removed and flushes the diff.
func (d *planDiff) finish() error {
	for d.have {
		if err := d.emit(d.next.personID, "removed", &d.next.payable, nil); err != nil {
			return err
		}
		if err := d.advance(); err != nil {
			return err
		}
	}
	d.out.Flush()
	return d.out.Error()
}

// emit writes one line; a missing side is empty and counts 0 in change.
func (d *planDiff) emit(id, status string, previous, payable *engine.Money) error {
	var before, after engine.Money
	d.rec = [5]string{id, status, "", "", ""}
	if previous != nil {
		before, d.rec[2] = *previous, previous.String()
	}
	if payable != nil {
		after, d.rec[3] = *payable, payable.String()
	}
	change := after.Sub(before)
	d.rec[4] = change.String()
	sum, ok := d.change.AddChecked(change)
	if !ok {
		return errors.New("the diff's change total overflows")
	}
	d.change = sum
	switch status {
	case "changed":
		d.changed++
	case "added":
		d.added++
	default:
		d.removed++
	}
	return d.out.Write(d.rec[:])
}

// summary is the diff in one line.
func (d *planDiff) summary() string {
	return fmt.Sprintf("%d changed, %d added, %d removed, %d unchanged; payable change %s",
		d.changed, d.added, d.removed, d.same, signedMoney(d.change))
}

// signedMoney writes m with its sign: +40.00, -40.00, 0.00.
func signedMoney(m engine.Money) string {
	if m.IsPositive() {
		return "+" + m.String()
	}
	return m.String()
}
