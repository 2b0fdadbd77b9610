package api

import (
	"errors"
	"testing"
	"time"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// TestClearingProgressThrottled: the first report is sent, then at most
// one every ProgressInterval, and the last message always has processed
// == total, even when the store's last report was held back or the store
// never reported; a failed send cancels the run.
func TestClearingProgressThrottled(t *testing.T) {
	newSender := func() (*progressSender, *[]*pb.ClearingProgress, *error) {
		var sent []*pb.ClearingProgress
		var cause error
		return &progressSender{
			send:   func(m *pb.ClearingProgress) error { sent = append(sent, m); return nil },
			cancel: func(err error) { cause = err },
		}, &sent, &cause
	}
	last := func(sent []*pb.ClearingProgress) *pb.ClearingProgress { return sent[len(sent)-1] }

	ps, sent, _ := newSender()
	start := time.Now()
	for i := int64(0); i <= 100_000; i++ {
		ps.report(i, 100_000)
	}
	must(t, ps.finish(100_000))
	if limit := 2 + int(time.Since(start)/ProgressInterval); len(*sent) > limit || len(*sent) < 2 {
		t.Errorf("%d messages for 100,001 reports in %v; want 2 to %d", len(*sent), time.Since(start), limit)
	}
	if p := (*sent)[0]; p.GetProcessed() != 0 || p.GetTotal() != 100_000 {
		t.Errorf("first message %v", p)
	}
	if p := last(*sent); p.GetProcessed() != 100_000 || p.GetTotal() != 100_000 {
		t.Errorf("last message %v", p)
	}
	n := len(*sent)
	must(t, ps.finish(100_000))
	if len(*sent) != n {
		t.Errorf("finish repeated the last message")
	}

	// The store's last report was not the end: finish sends it.
	ps, sent, _ = newSender()
	ps.report(0, 10)
	ps.report(5, 10)
	must(t, ps.finish(10))
	if len(*sent) != 2 || last(*sent).GetProcessed() != 10 || last(*sent).GetTotal() != 10 {
		t.Errorf("held-back end: %v", *sent)
	}

	// A store that never reported: the run's count.
	ps, sent, _ = newSender()
	must(t, ps.finish(7))
	if len(*sent) != 1 || last(*sent).GetProcessed() != 7 || last(*sent).GetTotal() != 7 {
		t.Errorf("no report: %v", *sent)
	}

	// A send that fails cancels the run with its error; nothing more is sent.
	broken := errors.New("client gone")
	var cause error
	calls := 0
	ps = &progressSender{
		send:   func(*pb.ClearingProgress) error { calls++; return broken },
		cancel: func(err error) { cause = err },
	}
	ps.report(0, 10)
	ps.report(10, 10)
	if err := ps.finish(10); !errors.Is(err, broken) || !errors.Is(cause, broken) || !errors.Is(ps.failed(), broken) || calls != 1 {
		t.Errorf("after a failed send: finish %v, cause %v, %d sends", err, cause, calls)
	}
}
