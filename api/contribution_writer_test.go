package api

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/medsettle/medsettle/engine"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// engineSeed003 is seed 003's section as the engine holds it.
func engineSeed003() *engine.Contribution {
	return &engine.Contribution{Amount: engine.MustMoney("380"), Subsidies: []engine.Subsidy{
		{Category: engine.CategoryDestitute, Full: true},
		{Category: engine.CategoryMinimumLiving, Amount: engine.MustMoney("340")},
		{Category: engine.CategoryMonitored, Amount: engine.MustMoney("190")},
	}}
}

var jan1of2026 = engine.Date{Year: 2026, Month: 1, Day: 1}

// sentTexts records what a planWriter sends, encoded as it is sent (as
// grpc-go does), as rowText and totalsText render it.
type sentTexts struct {
	lines []string
	fail  error
}

func (s *sentTexts) send(m *pb.ExportPlanResponse) error {
	if s.fail != nil {
		return s.fail
	}
	b, err := proto.Marshal(m)
	if err != nil {
		return err
	}
	var got pb.ExportPlanResponse
	if err := proto.Unmarshal(b, &got); err != nil {
		return err
	}
	if r := got.GetRow(); r != nil {
		s.lines = append(s.lines, rowText(r))
	} else {
		s.lines = append(s.lines, totalsText(got.GetTotals()))
	}
	return nil
}

// TestPlanWriterRows: the reused message and the texts kept per basis
// send each row as its own quote; a basis whose amounts change (which one
// contribution section never does) is rendered again.
func TestPlanWriterRows(t *testing.T) {
	var s sentTexts
	w := newPlanWriter(context.Background(), engineSeed003(), jan1of2026, s.send)
	persons := []engine.Person{
		{ID: "A", Category: engine.CategoryMonitored},
		{ID: "B"},
		{ID: "C", Category: engine.CategoryMinimumLiving},
		{ID: "D", Category: engine.CategoryMonitored},
		{ID: "E", Category: engine.CategoryDestitute},
	}
	for _, p := range persons {
		must(t, w.add(p))
	}
	w.contribution.Subsidies[2].Amount = engine.MustMoney("200")
	must(t, w.add(engine.Person{ID: "F", Category: engine.CategoryMonitored}))
	must(t, w.finish())
	want := []string{
		"A 380.00 190.00 190.00 MONITORED",
		"B 380.00 0.00 380.00 UNSPECIFIED",
		"C 380.00 340.00 40.00 MINIMUM_LIVING",
		"D 380.00 190.00 190.00 MONITORED",
		"E 380.00 380.00 0.00 DESTITUTE",
		"F 380.00 200.00 180.00 MONITORED",
		"6 2280.00 1300.00 980.00 [DESTITUTE 1 380.00, MINIMUM_LIVING 1 340.00, MONITORED 3 580.00]",
	}
	if got := strings.Join(s.lines, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("sent\n%s\nwant\n%s", got, strings.Join(want, "\n"))
	}
}

// TestPlanWriterRowAllocations: a row costs no allocation once its basis
// has been rendered.
func TestPlanWriterRowAllocations(t *testing.T) {
	w := newPlanWriter(context.Background(), engineSeed003(), jan1of2026, func(*pb.ExportPlanResponse) error { return nil })
	p := engine.Person{ID: "A", Category: engine.CategoryMonitored}
	must(t, w.add(p))
	if n := testing.AllocsPerRun(100, func() { _ = w.add(p) }); n != 0 {
		t.Errorf("%v allocations a row, want 0", n)
	}
}

// TestPlanWriterStops: a cancelled context or a failed send stops the
// walk with the error; totals that leave the range of money are
// FAILED_PRECONDITION, not a wrong figure.
func TestPlanWriterStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w := newPlanWriter(ctx, engineSeed003(), jan1of2026, func(*pb.ExportPlanResponse) error { return nil })
	if err := w.add(engine.Person{ID: "A"}); !errors.Is(err, context.Canceled) {
		t.Errorf("add on a cancelled context: %v", err)
	}

	gone := errors.New("client gone")
	s := sentTexts{fail: gone}
	w = newPlanWriter(context.Background(), engineSeed003(), jan1of2026, s.send)
	if err := w.add(engine.Person{ID: "A"}); !errors.Is(err, gone) || err.Error() != "send the row of person A: client gone" {
		t.Errorf("add with a failing send: %v", err)
	}

	huge := &engine.Contribution{Amount: engine.MustMoney(engine.MaxMoney)}
	w = newPlanWriter(context.Background(), huge, jan1of2026, func(*pb.ExportPlanResponse) error { return nil })
	var err error
	n := 0
	for err == nil {
		n++
		err = w.add(engine.Person{ID: fmt.Sprint(n)})
	}
	// 92,233 persons of 10^14 fen fit an int64 of fen; the next does not.
	if n != 92234 || !errors.Is(err, errPlanRange) {
		t.Errorf("person %d: %v", n, err)
	}
	st := status.Convert(toStatus(context.Background(), discard, "ExportPlan", err))
	if st.Code() != codes.FailedPrecondition || !strings.HasPrefix(st.Message(), "the plan's totals leave the range the API can state: plan totals overflow after 92233 persons") {
		t.Errorf("answered %v %q", st.Code(), st.Message())
	}
}
