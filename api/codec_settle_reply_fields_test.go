package api

import (
	"bytes"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// TestMarshalSettleResponseWritesEveryField: an answer with every field of
// every message in it set (found through the descriptors, not named here)
// is encoded by marshalSettleResponse as proto.Marshal encodes it. A field
// added to Settlement, Breakdown, FundDetail or BudgetStatus that the
// hand-written encoder does not write fails here, rather than vanishing
// from the answers. Line items are left out: an answer with items goes to
// the protobuf codec.
func TestMarshalSettleResponseWritesEveryField(t *testing.T) {
	m := &pb.SettleResponse{}
	fillEveryField(t, m.ProtoReflect())
	m.Settlement.Items = nil
	want, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := marshalSettleResponse(m)
	if !ok {
		t.Fatalf("an answer with every field set was left to the codec: %v", m)
	}
	defer got.Free()
	if b := got.Materialize(); !bytes.Equal(b, want) {
		t.Fatalf("an answer with every field set:\n got % x\nwant % x\n(a field of %v is not written by marshalSettleResponse)", b, want, m)
	}
}

// fillEveryField sets every field of m to a value that is not the zero
// value, with one element in each list, recursively.
func fillEveryField(t *testing.T, m protoreflect.Message) {
	t.Helper()
	fields := m.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		if fd.IsList() && fd.Kind() == protoreflect.MessageKind {
			list := m.Mutable(fd).List()
			elem := list.NewElement()
			fillEveryField(t, elem.Message())
			list.Append(elem)
			continue
		}
		if fd.IsList() || fd.IsMap() {
			t.Fatalf("%s: a repeated scalar or map field: teach fillEveryField (and check marshalSettleResponse writes it)", fd.FullName())
		}
		switch fd.Kind() {
		case protoreflect.MessageKind:
			fillEveryField(t, m.Mutable(fd).Message())
		case protoreflect.StringKind:
			m.Set(fd, protoreflect.ValueOfString("12.34"))
		case protoreflect.EnumKind:
			m.Set(fd, protoreflect.ValueOfEnum(1))
		case protoreflect.Int32Kind:
			m.Set(fd, protoreflect.ValueOfInt32(7))
		default:
			t.Fatalf("%s: kind %v: teach fillEveryField (and check marshalSettleResponse writes it)", fd.FullName(), fd.Kind())
		}
	}
}
