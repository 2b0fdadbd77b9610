package api

import (
	"encoding/binary"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// decodeSettleRequest decodes the request of PreSettle and Settle, the hot
// calls, in a few allocations where protobuf's generic decoder makes about
// a hundred and thirty for a 20-line claim (each line item by reflection,
// each of its five strings, the list growing): the items in one array,
// their pointers in one slice, the texts of all items in one string, and
// the request's own texts each in its own (so that an id the server keeps,
// as a map key say, does not keep the whole message alive).
//
// It decodes only what it is sure to decode as proto.Unmarshal would: the
// message's known fields with their declared wire types, each string valid
// UTF-8 (proto3's rule), a later value of a field replacing an earlier one
// and every items record appending an item. Anything else (an unknown
// field, another wire type, a malformed or truncated record, invalid
// UTF-8) returns false, m's contents undefined, and the caller decodes with
// proto.Unmarshal, which resets m, keeps unknown fields and reports errors:
// the result is always proto.Unmarshal's (TestDecodeSettleRequestAsProto).
func decodeSettleRequest(b []byte, m *pb.SettleRequest) bool {
	m.Reset()
	// First pass: check the request's own records and count the items,
	// and the span of bytes their texts lie in.
	n, first, last := 0, -1, 0
	for rest := b; len(rest) > 0; {
		num, typ, tl := protowire.ConsumeTag(rest)
		if tl < 0 {
			return false
		}
		at := len(b) - len(rest)
		rest = rest[tl:]
		switch {
		case (num == 4 || num == 6 || num == 8) && typ == protowire.VarintType:
			v, vl := protowire.ConsumeVarint(rest)
			if vl < 0 {
				return false
			}
			switch num {
			case 4:
				m.VisitType = pb.VisitType(int32(v))
			case 6:
				m.CrossRegion = pb.CrossRegion(int32(v))
			default:
				m.UsePersonalAccount = v != 0
			}
			rest = rest[vl:]
		case num >= 1 && num <= 9 && num != 4 && num != 6 && num != 8 && typ == protowire.BytesType:
			v, vl := protowire.ConsumeBytes(rest)
			if vl < 0 {
				return false
			}
			if num == 9 {
				n++
				if first < 0 {
					first = at
				}
				last = len(b) - len(rest) + vl
			} else {
				if !utf8.Valid(v) {
					return false
				}
				s := string(v)
				switch num {
				case 1:
					m.RequestId = s
				case 2:
					m.InstitutionId = s
				case 3:
					m.PersonId = s
				case 5:
					m.SettleDate = s
				case 7:
					m.DrgCode = s
				}
			}
			rest = rest[vl:]
		default:
			return false
		}
	}
	if n == 0 {
		return true
	}
	// Second pass: the items, their texts cut from one copy of their span.
	// A span of ASCII bytes only (tags and lengths included) holds valid
	// UTF-8 however it is cut: its texts are not checked one by one.
	text := string(b[first:last])
	ascii := asciiOnly(b[first:last])
	items := make([]pb.LineItem, n)
	m.Items = make([]*pb.LineItem, n)
	i := 0
	for rest := b[first:last]; len(rest) > 0; {
		num, typ, tl := protowire.ConsumeTag(rest)
		rest = rest[tl:]
		if typ == protowire.VarintType {
			_, vl := protowire.ConsumeVarint(rest)
			rest = rest[vl:]
			continue
		}
		v, vl := protowire.ConsumeBytes(rest)
		if num == 9 {
			off := len(b[first:last]) - len(rest) + vl - len(v)
			if !decodeLineItem(v, text, off, ascii, &items[i]) {
				return false
			}
			m.Items[i] = &items[i]
			i++
		}
		rest = rest[vl:]
	}
	return true
}

// decodeLineItem decodes a LineItem record b, which lies at off in text,
// its strings cut from text (checked as UTF-8 unless ascii says text is
// ASCII); false for anything decodeSettleRequest leaves to
// proto.Unmarshal.
func decodeLineItem(b []byte, text string, off int, ascii bool, it *pb.LineItem) bool {
	for at := 0; at < len(b); {
		num, v, n := itemField(b[at:])
		if n < 0 || !ascii && !utf8.Valid(v) {
			return false
		}
		start := off + at + n - len(v)
		s := text[start : start+len(v)]
		switch num {
		case 1:
			it.Code = s
		case 2:
			it.Name = s
		case 3:
			it.Quantity = s
		case 4:
			it.UnitPrice = s
		case 5:
			it.Amount = s
		}
		at += n
	}
	return true
}

// itemField reads the LineItem record at the start of b: its field
// number, its bytes and its length, or n < 0 when it is not a text field
// (1 to 5) read whole. A record whose tag and length take a byte each
// (every text under 128 bytes) is read here, without protowire's two
// calls.
func itemField(b []byte) (num protowire.Number, v []byte, n int) {
	if len(b) >= 2 && b[0] < 0x80 && b[1] < 0x80 {
		num, typ, l := protowire.Number(b[0]>>3), protowire.Type(b[0]&7), int(b[1])
		if num < 1 || num > 5 || typ != protowire.BytesType || l > len(b)-2 {
			return 0, nil, -1
		}
		return num, b[2 : 2+l], 2 + l
	}
	num, typ, tl := protowire.ConsumeTag(b)
	if tl < 0 || num < 1 || num > 5 || typ != protowire.BytesType {
		return 0, nil, -1
	}
	v, vl := protowire.ConsumeBytes(b[tl:])
	if vl < 0 {
		return 0, nil, -1
	}
	return num, v, tl + vl
}

// asciiOnly reports whether b holds no byte above 0x7f, eight bytes at a
// time: the items of a claim are usually ASCII, and checking their 100
// short texts (a 20-line claim) one by one as UTF-8 was some 11k
// instructions a Settle, against a few hundred here.
func asciiOnly(b []byte) bool {
	for len(b) >= 8 {
		if binary.LittleEndian.Uint64(b)&0x8080808080808080 != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
