package api

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// settleWire writes a random SettleRequest record by record: fields in any
// order and repeated, and, when odd is set, now and then what the fast
// decoder must leave to protobuf (unknown fields, other wire types,
// invalid UTF-8, records cut short).
func settleWire(r *rand.Rand, odd bool) []byte {
	text := func() []byte {
		words := []string{"", "A-BED", "line 7", "12.5", "18500.00", "阿司匹林", "P17", "2026-06-15", "BJ-H3"}
		s := []byte(words[r.IntN(len(words))])
		if odd && r.IntN(40) == 0 {
			s = append(s, 0xff, 0xfe) // not UTF-8
		}
		return s
	}
	varint := func() uint64 {
		switch r.IntN(5) {
		case 0:
			return 0
		case 1:
			return uint64(r.IntN(5))
		case 2:
			return uint64(int64(-1 - r.IntN(1000))) // a negative int32, ten bytes
		case 3:
			return r.Uint64()
		}
		return uint64(r.IntN(1 << 20))
	}
	unknown := func(b []byte) []byte {
		num := protowire.Number(10 + r.IntN(100))
		switch r.IntN(4) {
		case 0:
			b = protowire.AppendTag(b, num, protowire.VarintType)
			return protowire.AppendVarint(b, varint())
		case 1:
			b = protowire.AppendTag(b, num, protowire.Fixed32Type)
			return protowire.AppendFixed32(b, r.Uint32())
		case 2:
			b = protowire.AppendTag(b, num, protowire.Fixed64Type)
			return protowire.AppendFixed64(b, r.Uint64())
		}
		b = protowire.AppendTag(b, num, protowire.BytesType)
		return protowire.AppendBytes(b, text())
	}
	item := func() []byte {
		var b []byte
		for range r.IntN(8) {
			if odd && r.IntN(30) == 0 {
				b = unknown(b)
				continue
			}
			num := protowire.Number(1 + r.IntN(5))
			if odd && r.IntN(40) == 0 {
				b = protowire.AppendTag(b, num, protowire.VarintType)
				b = protowire.AppendVarint(b, varint())
				continue
			}
			b = protowire.AppendTag(b, num, protowire.BytesType)
			b = protowire.AppendBytes(b, text())
		}
		return b
	}
	var b []byte
	for range r.IntN(30) {
		if odd && r.IntN(30) == 0 {
			b = unknown(b)
			continue
		}
		num := protowire.Number(1 + r.IntN(9))
		wantVarint := num == 4 || num == 6 || num == 8
		if odd && r.IntN(40) == 0 {
			wantVarint = !wantVarint // the wrong wire type
		}
		switch {
		case wantVarint:
			b = protowire.AppendTag(b, num, protowire.VarintType)
			b = protowire.AppendVarint(b, varint())
		case num == 9:
			b = protowire.AppendTag(b, num, protowire.BytesType)
			b = protowire.AppendBytes(b, item())
		default:
			b = protowire.AppendTag(b, num, protowire.BytesType)
			b = protowire.AppendBytes(b, text())
		}
	}
	if odd && len(b) > 0 && r.IntN(20) == 0 {
		b = b[:r.IntN(len(b))]
	}
	return b
}

// checkSettleDecoding decodes b with decodeSettleRequest and with
// proto.Unmarshal: where the fast decoder takes a message, protobuf must
// take it too and give an equal one; decodeRequest must fail exactly when
// protobuf does. Reports whether the fast decoder took b.
func checkSettleDecoding(t *testing.T, b []byte) bool {
	t.Helper()
	want := &pb.SettleRequest{}
	wantErr := proto.Unmarshal(b, want)
	got := &pb.SettleRequest{}
	fast := decodeSettleRequest(b, got)
	if fast && (wantErr != nil || !proto.Equal(got, want)) {
		t.Fatalf("% x: the fast decoder gives %v, protobuf %v (error %v)", b, got, want, wantErr)
	}
	// Decoded into a message that held something already, as protobuf
	// would reset it.
	again := &pb.SettleRequest{RequestId: "old", Items: []*pb.LineItem{{Code: "old"}}}
	err := decodeRequest(b, again)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("% x: decodeRequest: %v, protobuf: %v", b, err, wantErr)
	}
	if err == nil && !proto.Equal(again, want) {
		t.Fatalf("% x: decodeRequest gives %v, protobuf %v", b, again, want)
	}
	return fast
}

// TestDecodeSettleRequestAsProto: the fast decoder of SettleRequest gives
// what proto.Unmarshal gives, or leaves the message to it.
func TestDecodeSettleRequestAsProto(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 20261127))
	taken := 0
	for i := range 20000 {
		if checkSettleDecoding(t, settleWire(r, i%2 == 1)) {
			taken++
		}
	}
	if taken < 10000 {
		t.Errorf("the fast decoder took %d of 20000 messages, want every well-formed one", taken)
	}
	// What clients send: generated messages, marshalled.
	req := &pb.SettleRequest{RequestId: "r1", InstitutionId: "BJ-H3", PersonId: "P1", VisitType: pb.VisitType_VISIT_TYPE_INPATIENT,
		SettleDate: "2026-06-15", CrossRegion: pb.CrossRegion_CROSS_REGION_REGISTERED, DrgCode: "ES31", UsePersonalAccount: true}
	for i := range 20 {
		req.Items = append(req.Items, &pb.LineItem{Code: "A-DRUG", Name: "阿司匹林", Quantity: "12.5", UnitPrice: "11.2", Amount: "140.00"})
		if i%7 == 3 {
			req.Items = append(req.Items, &pb.LineItem{})
		}
	}
	for _, m := range []*pb.SettleRequest{{}, {RequestId: "x"}, req} {
		b, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if !checkSettleDecoding(t, b) {
			t.Errorf("the fast decoder left %v to protobuf", m)
		}
	}
}

// FuzzDecodeSettleRequest: on any bytes, the fast decoder agrees with
// protobuf.
func FuzzDecodeSettleRequest(f *testing.F) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 20 {
		f.Add(settleWire(r, i%2 == 1))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkSettleDecoding(t, b)
	})
}

// TestDecodeSettleRequestAllocations: a 20-line request decodes in the
// fast decoder's eight allocations (five ids and texts, the items' text,
// their array and their pointers).
func TestDecodeSettleRequestAllocations(t *testing.T) {
	req := &pb.SettleRequest{RequestId: "r1", InstitutionId: "BJ-H3", PersonId: "P1", SettleDate: "2026-06-15", DrgCode: "ES31"}
	for range 20 {
		req.Items = append(req.Items, &pb.LineItem{Code: "A-DRUG", Name: "line", Quantity: "12.5", UnitPrice: "11.2", Amount: "140.00"})
	}
	b, err := proto.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	m := &pb.SettleRequest{}
	if n := testing.AllocsPerRun(100, func() { _ = decodeRequest(b, m) }); n > 8 {
		t.Errorf("decoding a 20-line SettleRequest made %v allocations, want at most 8", n)
	}
}

// TestCountSettleValuesAsGeneric: countSettleValues counts a
// SettleRequest's values as countValues does, and stops at the same
// limit, on well-formed and odd messages (unknown fields, wrong wire
// types, bytes cut short).
func TestCountSettleValuesAsGeneric(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 11))
	for i := range 20000 {
		b := settleWire(r, i%2 == 1)
		if i%5 == 0 && len(b) > 0 {
			// A group and arbitrary bytes, after a well-formed start.
			b = protowire.AppendTag(b, 9, protowire.StartGroupType)
			b = protowire.AppendTag(b, 9, protowire.EndGroupType)
			b = append(b, byte(r.IntN(256)), byte(r.IntN(256)))
		}
		for _, limit := range []int{1 << 30, r.IntN(40), r.IntN(200)} {
			var want, got int
			wantOK := countValues(b, settleRequestDescriptor, 0, &want, limit)
			gotOK := countSettleValues(b, settleRequestDescriptor, 0, &got, limit)
			if wantOK != gotOK || want != got {
				t.Fatalf("% x, limit %d: countSettleValues %v after %d values, countValues %v after %d", b, limit, gotOK, got, wantOK, want)
			}
		}
	}
}

// TestASCIIOnly: asciiOnly finds a byte above 0x7f wherever it lies, in
// the eight-byte words and in the tail.
func TestASCIIOnly(t *testing.T) {
	for n := range 40 {
		b := bytes.Repeat([]byte{'a'}, n)
		if !asciiOnly(b) {
			t.Fatalf("%d ASCII bytes not ASCII", n)
		}
		for i := range n {
			for _, c := range []byte{0x80, 0xff, 0xc3} {
				b[i] = c
				if asciiOnly(b) {
					t.Fatalf("% x taken for ASCII", b)
				}
				b[i] = 0x7f
				if !asciiOnly(b) {
					t.Fatalf("% x not ASCII", b)
				}
			}
		}
	}
}
