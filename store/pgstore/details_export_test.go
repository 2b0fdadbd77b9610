package pgstore

import (
	"context"

	"github.com/medsettle/medsettle/store"
)

// DetailGroupStats reports how many fee-detail group transactions ran,
// how many uploads they held and how many failed as a whole.
func DetailGroupStats(s *Store) (groups, grouped, failed int64) {
	st := &s.details.stats
	return st.groups.Load(), st.grouped.Load(), st.failed.Load()
}

// FailDetailGroups makes every fee-detail group transaction fail after
// its writes are queued with f's error (nil f: no more).
func FailDetailGroups(s *Store, f func() error) { s.details.fail = f }

// DetailUpload is one PutFeeDetails call of PutDetailsAsGroup.
type DetailUpload struct {
	Ctx     context.Context
	VisitID string
	Lines   []store.FeeDetail
}

// PutDetailsAsGroup uploads as one group, in order, the way the queue
// would hand the calls over (each already accepted by CheckFeeDetails),
// and answers each as its caller would.
func PutDetailsAsGroup(s *Store, uploads []DetailUpload) []error {
	calls := make([]*detailsCall, len(uploads))
	for i, u := range uploads {
		calls[i] = &detailsCall{ctx: u.Ctx, visitID: u.VisitID, lines: u.Lines, done: make(chan detailsAnswer, 1)}
		calls[i].take()
	}
	s.putDetailsGroup(calls)
	errs := make([]error, len(uploads))
	for i, c := range calls {
		a := <-c.done
		if a.alone {
			a.err = s.putDetailsOne(context.WithoutCancel(uploads[i].Ctx), uploads[i].VisitID, uploads[i].Lines)
		}
		errs[i] = a.err
	}
	return errs
}
