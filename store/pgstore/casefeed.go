package pgstore

import (
	"context"
	"errors"
	"io"
	"strconv"
	"sync"

	"github.com/medsettle/medsettle/engine"
)

// errCopyAborted stops the reading loop when the COPY it feeds failed.
var errCopyAborted = errors.New("the copy of the case lines failed")

// caseFeed carries a run's case lines from the loop that reads the
// settlements to the COPY that stores them, in PostgreSQL's COPY text
// format: the loop formats each line as the clearer returns it (while its
// figures are in the CPU's caches), and hands over buffers of about
// feedChunk bytes; the feed is the io.Reader the COPY reads. Buffers come
// back empty to be reused, so a run of a million cases holds a few
// hundred kilobytes of them at a time and formatting allocates nothing.
type caseFeed struct {
	ctx     context.Context
	runID   string
	full    chan []byte
	empty   chan []byte
	aborted chan struct{}
	once    sync.Once

	cur []byte // the buffer Read is emptying
	off int
}

const (
	// feedChunk is the size of the buffers the loop hands to the COPY.
	feedChunk = 256 << 10
	// feedDepth is how many full buffers may wait for the COPY.
	feedDepth = 4
)

func newCaseFeed(ctx context.Context, runID string) *caseFeed {
	return &caseFeed{
		ctx: ctx, runID: runID,
		full:    make(chan []byte, feedDepth),
		empty:   make(chan []byte, feedDepth+2),
		aborted: make(chan struct{}),
	}
}

// get returns an empty buffer.
func (f *caseFeed) get() []byte {
	select {
	case b := <-f.empty:
		return b[:0]
	default:
		return make([]byte, 0, feedChunk+4096)
	}
}

// add formats a case line into buf and hands buf to the COPY when it is
// full, returning the buffer to go on with; it fails if the run was
// cancelled or the COPY failed.
func (f *caseFeed) add(buf []byte, l *engine.CaseLine) ([]byte, error) {
	buf = appendCaseLine(buf, f.runID, l)
	if len(buf) < feedChunk {
		return buf, nil
	}
	if err := f.send(buf); err != nil {
		return nil, err
	}
	return f.get(), nil
}

// send hands a buffer to the COPY; it fails if the run was cancelled or
// the COPY failed.
func (f *caseFeed) send(b []byte) error {
	select {
	case f.full <- b:
		return nil
	case <-f.ctx.Done():
		return f.ctx.Err()
	case <-f.aborted:
		return errCopyAborted
	}
}

// close ends the stream: the COPY reads io.EOF once it has every buffer.
func (f *caseFeed) close() { close(f.full) }

// abort tells the reading loop that nobody reads the buffers any more.
func (f *caseFeed) abort() { f.once.Do(func() { close(f.aborted) }) }

// Read implements io.Reader for pgconn's CopyFrom.
func (f *caseFeed) Read(p []byte) (int, error) {
	for f.off >= len(f.cur) {
		if f.cur != nil {
			select {
			case f.empty <- f.cur:
			default:
			}
			f.cur = nil
		}
		var ok bool
		select {
		case f.cur, ok = <-f.full:
		case <-f.ctx.Done():
			return 0, f.ctx.Err()
		}
		if !ok {
			return 0, io.EOF
		}
		f.off = 0
	}
	n := copy(p, f.cur[f.off:])
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
	b = appendFigure(b, moneyCodec, l.Total)
	b = append(b, '\t')
	b = appendFigure(b, ratioCodec, l.Ratio)
	b = append(b, '\t')
	b = strconv.AppendInt(b, int64(l.Kind), 10)
	b = append(b, '\t')
	b = appendFigure(b, pointsCodec, l.Points)
	b = append(b, '\t')
	b = appendFigure(b, moneyCodec, l.PersonalTotal)
	b = append(b, '\t')
	b = appendFigure(b, moneyCodec, l.BasicFund)
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

// appendFigure appends an engine figure exactly, with its type's number
// of decimals ("1234.50", "1.2000"), without allocating.
func appendFigure[T any](b []byte, c figureCodec[T], v T) []byte {
	return engine.AppendScaled(b, c.units(v), c.scale)
}
