package pgstore

import (
	"sync"

	"github.com/medsettle/medsettle/engine"
)

// accMemoMax bounds the accumulators memo: when it holds this many
// person-years it starts again empty.
const accMemoMax = 1 << 16

// accMemo remembers, for each person-year, the last accumulators document
// this process wrote or decoded and what it decodes to, so that a
// settlement reading back the document its person's previous settlement
// wrote does not decode it again (decoding with its schema check was about
// a fifth of the store's CPU per settlement). It is a memo of the pure
// function decodeAccumulators: an entry is used only when the document
// read is byte for byte the one remembered, which the json column type
// keeps (migration 0007), so whoever wrote the row the answer is what
// decoding would give. Documents whose accumulators decoding would refuse
// are never remembered.
type accMemo struct {
	mu sync.Mutex
	m  map[accMemoKey]accMemoEntry
}

// accMemoKey names a person-year.
type accMemoKey struct {
	person string
	year   int
}

// accMemoEntry is a document and its decoded accumulators.
type accMemoEntry struct {
	doc string
	acc engine.Accumulators
}

// encode is encodeAccumulators, remembering the document for the
// person-year.
func (m *accMemo) encode(a engine.Accumulators) ([]byte, error) {
	doc, err := encodeAccumulators(a)
	if err != nil {
		return nil, err
	}
	if engine.CheckAccumulators(a) == nil {
		m.put(accMemoKey{a.PersonID, a.Year}, string(doc), a.Clone())
	}
	return doc, nil
}

// decode is decodeAccumulators of the document stored for a person-year.
func (m *accMemo) decode(person string, year int, doc []byte) (engine.Accumulators, error) {
	k := accMemoKey{person, year}
	m.mu.Lock()
	e, ok := m.m[k]
	m.mu.Unlock()
	if ok && e.doc == string(doc) {
		return e.acc.Clone(), nil
	}
	acc, err := decodeAccumulators(doc)
	if err != nil {
		return engine.Accumulators{}, err
	}
	m.put(k, string(doc), acc.Clone())
	return acc, nil
}

func (m *accMemo) put(k accMemoKey, doc string, acc engine.Accumulators) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil || len(m.m) >= accMemoMax {
		m.m = make(map[accMemoKey]accMemoEntry)
	}
	m.m[k] = accMemoEntry{doc: doc, acc: acc}
}
