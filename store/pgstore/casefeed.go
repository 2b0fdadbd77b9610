package pgstore

import (
	"context"
	"errors"
	"io"
	"strconv"
	"sync"

	"github.com/shopspring/decimal"

	"github.com/medsettle/medsettle/engine"
)

// errCopyAborted stops the reading loop when the COPY it feeds failed.
var errCopyAborted = errors.New("the copy of the case lines failed")

// caseFeed carries a run's case lines from the loop that reads the
// settlements to the COPY that stores them, as PostgreSQL's COPY text
// format: it is the io.Reader the COPY reads. Batches travel on a channel
// and come back empty to be reused, so a run of a million cases holds only
// a few batches at a time, and formatting allocates nothing.
type caseFeed struct {
	ctx     context.Context
	runID   string
	full    chan []engine.CaseLine
	empty   chan []engine.CaseLine
	aborted chan struct{}
	once    sync.Once

	buf []byte
	off int
}

// feedDepth is how many full batches may wait for the COPY.
const feedDepth = 4

func newCaseFeed(ctx context.Context, runID string) *caseFeed {
	return &caseFeed{
		ctx: ctx, runID: runID,
		full:    make(chan []engine.CaseLine, feedDepth),
		empty:   make(chan []engine.CaseLine, feedDepth+2),
		aborted: make(chan struct{}),
		buf:     make([]byte, 0, caseBatch*160),
	}
}

// get returns an empty batch.
func (f *caseFeed) get() []engine.CaseLine {
	select {
	case b := <-f.empty:
		return b[:0]
	default:
		return make([]engine.CaseLine, 0, caseBatch)
	}
}

// send hands a batch to the COPY; it fails if the run was cancelled or the
// COPY failed.
func (f *caseFeed) send(b []engine.CaseLine) error {
	select {
	case f.full <- b:
		return nil
	case <-f.ctx.Done():
		return f.ctx.Err()
	case <-f.aborted:
		return errCopyAborted
	}
}

// close ends the stream: the COPY reads io.EOF once it has every batch.
func (f *caseFeed) close() { close(f.full) }

// abort tells the reading loop that nobody reads the batches any more.
func (f *caseFeed) abort() { f.once.Do(func() { close(f.aborted) }) }

// Read implements io.Reader for pgconn's CopyFrom.
func (f *caseFeed) Read(p []byte) (int, error) {
	for f.off >= len(f.buf) {
		var batch []engine.CaseLine
		var ok bool
		select {
		case batch, ok = <-f.full:
		case <-f.ctx.Done():
			return 0, f.ctx.Err()
		}
		if !ok {
			return 0, io.EOF
		}
		f.buf, f.off = f.buf[:0], 0
		for i := range batch {
			f.buf = appendCaseLine(f.buf, f.runID, &batch[i])
		}
		select {
		case f.empty <- batch:
		default:
		}
	}
	n := copy(p, f.buf[f.off:])
	f.off += n
	return n, nil
}

// appendCaseLine appends one row of clearing_cases in COPY text format.
func appendCaseLine(b []byte, runID string, l *engine.CaseLine) []byte {
	b = appendCopyText(b, runID)
	b = append(b, '\t')
	b = appendCopyText(b, l.InstitutionID)
	b = append(b, '\t')
	b = appendCopyText(b, l.SettlementID)
	b = append(b, '\t')
	b = appendCopyText(b, l.RequestID)
	b = append(b, '\t')
	b = appendDate(b, l.SettleDate)
	b = append(b, '\t')
	b = appendCopyText(b, l.DRGCode)
	b = append(b, '\t')
	b = appendDecimal(b, l.Total)
	b = append(b, '\t')
	b = appendDecimal(b, l.Ratio)
	b = append(b, '\t')
	b = strconv.AppendInt(b, int64(l.Kind), 10)
	b = append(b, '\t')
	b = appendDecimal(b, l.Points)
	b = append(b, '\t')
	b = appendDecimal(b, l.PersonalTotal)
	b = append(b, '\t')
	b = appendDecimal(b, l.BasicFund)
	return append(b, '\n')
}

// appendCopyText appends a text value with COPY's escapes.
func appendCopyText(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b = append(b, '\\', '\\')
		case '\t':
			b = append(b, '\\', 't')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		default:
			b = append(b, c)
		}
	}
	return b
}

// appendDate appends "YYYY-MM-DD".
func appendDate(b []byte, d engine.Date) []byte {
	b = appendPadded(b, d.Year, 4)
	b = append(b, '-')
	b = appendPadded(b, int(d.Month), 2)
	b = append(b, '-')
	return appendPadded(b, d.Day, 2)
}

func appendPadded(b []byte, v, width int) []byte {
	var tmp [20]byte
	s := strconv.AppendInt(tmp[:0], int64(v), 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// appendDecimal appends a decimal exactly, without allocating when its
// coefficient has at most 18 digits.
func appendDecimal(b []byte, d decimal.Decimal) []byte {
	exp := d.Exponent()
	if d.NumDigits() > 18 || exp > 0 || exp < -18 {
		return append(b, d.String()...)
	}
	c := d.CoefficientInt64()
	if c < 0 {
		b = append(b, '-')
		c = -c
	}
	var tmp [24]byte
	digits := strconv.AppendInt(tmp[:0], c, 10)
	scale := int(-exp)
	if scale == 0 {
		return append(b, digits...)
	}
	if len(digits) <= scale {
		b = append(b, '0', '.')
		for i := len(digits); i < scale; i++ {
			b = append(b, '0')
		}
		return append(b, digits...)
	}
	b = append(b, digits[:len(digits)-scale]...)
	b = append(b, '.')
	return append(b, digits[len(digits)-scale:]...)
}
