package api

import (
	"unicode/utf8"

	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// marshalSettleResponse encodes the answer of PreSettle and Settle, the
// hot calls, byte for byte as the protobuf codec does
// (TestMarshalSettleResponseAsProto): the sizes in one pass and the bytes
// in another over the generated structs, where the codec's proto.Size and
// Marshal each walk them through protobuf's tables (a typical answer: 930
// ns through the codec, 690 here).
//
// It encodes only what it is sure to encode as proto.Marshal would: no
// unknown fields, no line items (a settlement's answer has none) and
// every string valid UTF-8 (proto3's rule, which proto.Marshal enforces
// with an error). Anything else returns false, for the protobuf codec.
func marshalSettleResponse(m *pb.SettleResponse) (mem.BufferSlice, bool) {
	if !plainMessage(m) {
		return nil, false
	}
	s := m.GetSettlement()
	var sz settlementSizes
	if s != nil {
		var ok bool
		if sz, ok = sizeSettlement(s); !ok {
			return nil, false
		}
	}
	size := 0
	if s != nil {
		size = fieldSize(sz.settlement)
	}
	var buf *[]byte
	var b []byte
	if mem.IsBelowBufferPoolingThreshold(size) {
		b = make([]byte, 0, size)
	} else {
		buf = mem.DefaultBufferPool().Get(size)
		b = (*buf)[:0]
	}
	if s != nil {
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(sz.settlement))
		b = appendSettlement(b, s, &sz)
	}
	if buf == nil {
		return mem.BufferSlice{mem.SliceBuffer(b)}, true
	}
	*buf = b
	return mem.BufferSlice{mem.NewBuffer(buf, mem.DefaultBufferPool())}, true
}

// settlementSizes are the encoded sizes of a Settlement and of its
// breakdown and budget, computed once for both passes.
type settlementSizes struct {
	settlement, breakdown, budget int
}

// plainMessage reports whether m carries no unknown fields.
func plainMessage(m proto.Message) bool {
	return len(m.ProtoReflect().GetUnknown()) == 0
}

// sizeSettlement is the encoded size of s and its messages; false for
// what marshalSettleResponse leaves to the codec.
func sizeSettlement(s *pb.Settlement) (settlementSizes, bool) {
	var sz settlementSizes
	if !plainMessage(s) || len(s.Items) > 0 {
		return sz, false
	}
	var t textSizes
	n := t.str(s.SettlementId) + t.str(s.RequestId) + t.str(s.InstitutionId) + t.str(s.PersonId) +
		int32Size(int32(s.VisitType)) + t.str(s.SettleDate) + t.str(s.PolicyVersion) + int32Size(int32(s.State))
	if bd := s.Breakdown; bd != nil {
		if !plainMessage(bd) {
			return sz, false
		}
		for _, v := range breakdownTexts(bd) {
			sz.breakdown += t.str(*v)
		}
		n += fieldSize(sz.breakdown)
	}
	for _, d := range s.Details {
		if d == nil || !plainMessage(d) {
			return sz, false
		}
		n += fieldSize(t.fundDetail(d))
	}
	if bs := s.Budget; bs != nil {
		if !plainMessage(bs) {
			return sz, false
		}
		sz.budget = int32Size(bs.Year) + t.str(bs.Limit) + t.str(bs.Used) + int32Size(int32(bs.State))
		n += fieldSize(sz.budget)
	}
	n += int32Size(int32(s.CrossRegion)) + t.str(s.DrgCode) + t.str(s.ReversalReason)
	sz.settlement = n
	return sz, !t.invalid
}

// textSizes sizes string fields, noting any text not valid UTF-8.
type textSizes struct {
	invalid bool
}

// str is the size of a proto3 string field (a tag below 16) holding v.
func (t *textSizes) str(v string) int {
	if v == "" {
		return 0
	}
	if !validText(v) {
		t.invalid = true
	}
	return 1 + protowire.SizeBytes(len(v))
}

// fundDetail is the encoded size of d.
func (t *textSizes) fundDetail(d *pb.FundDetail) int {
	return int32Size(int32(d.Fund)) + int32Size(d.Band) + t.str(d.Ratio) + t.str(d.Base) + t.str(d.Amount)
}

// int32Size is the size of a proto3 int32 or enum field (a tag below 16)
// holding v.
func int32Size(v int32) int {
	if v == 0 {
		return 0
	}
	return 1 + protowire.SizeVarint(uint64(int64(v)))
}

// fieldSize is the size of a message field (a tag below 16) whose
// message takes n bytes.
func fieldSize(n int) int { return 1 + protowire.SizeBytes(n) }

// breakdownTexts are bd's fields in field order (1 to 14).
func breakdownTexts(bd *pb.Breakdown) [14]*string {
	return [14]*string{&bd.Total, &bd.OutOfScope, &bd.OverLimit, &bd.PreSelfPay, &bd.InScope, &bd.Deductible,
		&bd.BasicFund, &bd.OverCap, &bd.Catastrophic, &bd.MedicalAid, &bd.FundTotal, &bd.PersonalTotal, &bd.Account, &bd.Cash}
}

// appendSettlement appends s's fields in field order, as proto.Marshal
// does, with the sizes sizeSettlement computed.
func appendSettlement(b []byte, s *pb.Settlement, sz *settlementSizes) []byte {
	b = appendString(b, 1, s.SettlementId)
	b = appendString(b, 2, s.RequestId)
	b = appendString(b, 3, s.InstitutionId)
	b = appendString(b, 4, s.PersonId)
	b = appendInt32(b, 5, int32(s.VisitType))
	b = appendString(b, 6, s.SettleDate)
	b = appendString(b, 7, s.PolicyVersion)
	b = appendInt32(b, 8, int32(s.State))
	if bd := s.Breakdown; bd != nil {
		b = appendMessageHead(b, 9, sz.breakdown)
		for i, v := range breakdownTexts(bd) {
			b = appendString(b, protowire.Number(i+1), *v)
		}
	}
	var t textSizes
	for _, d := range s.Details {
		b = appendMessageHead(b, 10, t.fundDetail(d))
		b = appendFundDetail(b, d)
	}
	if bs := s.Budget; bs != nil {
		b = appendMessageHead(b, 11, sz.budget)
		b = appendInt32(b, 1, bs.Year)
		b = appendString(b, 2, bs.Limit)
		b = appendString(b, 3, bs.Used)
		b = appendInt32(b, 4, int32(bs.State))
	}
	b = appendInt32(b, 12, int32(s.CrossRegion))
	b = appendString(b, 13, s.DrgCode)
	b = appendString(b, 14, s.ReversalReason)
	return b
}

func appendFundDetail(b []byte, d *pb.FundDetail) []byte {
	b = appendInt32(b, 1, int32(d.Fund))
	b = appendInt32(b, 2, d.Band)
	b = appendString(b, 3, d.Ratio)
	b = appendString(b, 4, d.Base)
	b = appendString(b, 5, d.Amount)
	return b
}

// validText is utf8.ValidString, quicker on the short ASCII texts of an
// answer (amounts, ids, dates).
func validText(v string) bool {
	for i := 0; i < len(v); i++ {
		if v[i] >= utf8.RuneSelf {
			return utf8.ValidString(v[i:])
		}
	}
	return true
}

// The fields of an answer's messages are numbered below 16, so their tags
// take a byte: appendString, appendInt32 and appendMessageHead write a
// tag and a length or value under 128 as two bytes themselves, without
// protowire's calls.

// appendString appends a proto3 string field, nothing when empty.
func appendString(b []byte, num protowire.Number, v string) []byte {
	if v == "" {
		return b
	}
	if num < 16 && len(v) < 0x80 {
		b = append(b, byte(num)<<3|byte(protowire.BytesType), byte(len(v)))
		return append(b, v...)
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, v)
}

// appendInt32 appends a proto3 int32 or enum field, nothing when zero.
func appendInt32(b []byte, num protowire.Number, v int32) []byte {
	if v == 0 {
		return b
	}
	if num < 16 && v > 0 && v < 0x80 {
		return append(b, byte(num)<<3|byte(protowire.VarintType), byte(v))
	}
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(int64(v)))
}

// appendMessageHead appends the tag and length of a message field of n
// bytes.
func appendMessageHead(b []byte, num protowire.Number, n int) []byte {
	if num < 16 && n < 0x80 {
		return append(b, byte(num)<<3|byte(protowire.BytesType), byte(n))
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendVarint(b, uint64(n))
}
