package main

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/medsettle/medsettle/engine"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// previousPlan reads a plan CSV file written by `medsettle plan --csv`
// row by row, checking each: the header, five fields, person_id in
// strictly increasing byte order (the order of the plan), amounts of
// money with payable = contribution − subsidy, a known basis category.
type previousPlan struct {
	path string
	file *os.File
	rd   *csv.Reader
	last string // the last person_id read
	rows int64
}

// maxPreviousProblems is how many bad rows of a previous plan are listed
// before the check stops.
const maxPreviousProblems = 10

// rowProblem is a bad row of a previous plan: the check goes on past it.
type rowProblem struct{ msg string }

func (e *rowProblem) Error() string { return e.msg }

// openPreviousPlan opens path and checks its header.
func openPreviousPlan(path string) (*previousPlan, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--diff: %w", err)
	}
	p := &previousPlan{path: path, file: f, rd: csv.NewReader(bufio.NewReaderSize(f, 256<<10))}
	p.rd.FieldsPerRecord = -1
	p.rd.ReuseRecord = true
	head, err := p.rd.Read()
	if errors.Is(err, io.EOF) {
		f.Close()
		return nil, fmt.Errorf("%s is empty: a plan CSV starts with the header %q", path, strings.Join(planColumns, ","))
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for i := range head {
		head[i] = strings.TrimSpace(strings.TrimPrefix(head[i], "\ufeff"))
	}
	if got := strings.Join(head, ","); got != strings.Join(planColumns, ",") {
		f.Close()
		return nil, fmt.Errorf("%s line 1: the header is %q; a plan CSV (medsettle plan --csv) has %q", path, got, strings.Join(planColumns, ","))
	}
	return p, nil
}

// close closes the file.
func (p *previousPlan) close() { p.file.Close() }

// next reads the next row; ok is false at the end of the file. A
// *rowProblem error is a bad row (the next call reads on); any other
// error ends the reading.
func (p *previousPlan) next() (row planRow, ok bool, err error) {
	rec, err := p.rd.Read()
	if errors.Is(err, io.EOF) {
		return row, false, nil
	}
	if err != nil {
		return row, false, fmt.Errorf("%s: %w", p.path, err)
	}
	line, _ := p.rd.FieldPos(0)
	bad := func(format string, args ...any) (planRow, bool, error) {
		return row, true, &rowProblem{fmt.Sprintf("%s line %d: ", p.path, line) + fmt.Sprintf(format, args...)}
	}
	if len(rec) != len(planColumns) {
		return bad("has %d fields; a plan row has %d (%s)", len(rec), len(planColumns), strings.Join(planColumns, ","))
	}
	row.personID = strings.TrimSpace(rec[0])
	if row.personID == "" {
		return bad("person_id is empty")
	}
	if p.rows > 0 && row.personID <= p.last {
		what := "comes after"
		if row.personID == p.last {
			what = "repeats"
		}
		return bad("person_id %s %s %s: a plan lists each person once, sorted by person_id (as medsettle plan --csv writes it)", row.personID, what, p.last)
	}
	p.last = row.personID
	p.rows++
	var problems []string
	for i, dst := range []*engine.Money{&row.contribution, &row.subsidy, &row.payable} {
		m, err := engine.ParseMoney(strings.TrimSpace(rec[i+1]))
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s %q is not an amount (at most two decimals, e.g. 40.00)", planColumns[i+1], rec[i+1]))
		}
		*dst = m
	}
	if len(problems) == 0 && !row.contribution.Sub(row.subsidy).Equal(row.payable) {
		problems = append(problems, fmt.Sprintf("payable %s is not contribution %s − subsidy %s", row.payable, row.contribution, row.subsidy))
	}
	if c, err := enumValue("basis_category", "PERSON_CATEGORY_", rec[4], pb.PersonCategory_value); err != nil || c == int32(pb.PersonCategory_PERSON_CATEGORY_ORDINARY) {
		problems = append(problems, fmt.Sprintf("basis_category %q is not a subsidised category (DESTITUTE, MINIMUM_LIVING, MONITORED, POVERTY_ALLEVIATED or empty)", rec[4]))
	} else {
		row.basis = pb.PersonCategory(c)
	}
	if len(problems) > 0 {
		return bad("%s", strings.Join(problems, "; "))
	}
	return row, true, nil
}

// checkPreviousPlan reads the whole previous plan before anything is
// dialed and lists its bad rows (up to maxPreviousProblems); it returns
// the number of rows, the progress bar's estimate of the new plan's.
func checkPreviousPlan(path string) (int64, error) {
	p, err := openPreviousPlan(path)
	if err != nil {
		return 0, err
	}
	defer p.close()
	var problems []string
	for {
		_, ok, err := p.next()
		var rp *rowProblem
		switch {
		case errors.As(err, &rp):
			problems = append(problems, rp.msg)
			if len(problems) == maxPreviousProblems {
				problems = append(problems, "(the check stopped here)")
				ok = false
			}
		case err != nil:
			problems = append(problems, err.Error())
			ok = false
		}
		if !ok {
			break
		}
	}
	if len(problems) > 0 {
		return 0, fmt.Errorf("--diff %s is not a plan CSV medsettle plan can compare with:\n  %s\n  what to do: fix the lines above, or name a plan that medsettle plan --csv wrote",
			path, strings.Join(problems, "\n  "))
	}
	return p.rows, nil
}
