package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// protoPackage is the package of medsettle's services.
const protoPackage = "medsettle.v1"

// rawBytes is a message sent and received as it is.
type rawBytes []byte

// rawCodec sends *rawBytes unencoded: a client that writes whatever bytes
// it likes.
type rawCodec struct{}

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	b, ok := v.(*rawBytes)
	if !ok {
		return nil, fmt.Errorf("rawCodec marshals *rawBytes, not %T", v)
	}
	return mem.BufferSlice{mem.SliceBuffer(*b)}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	b, ok := v.(*rawBytes)
	if !ok {
		return fmt.Errorf("rawCodec unmarshals into *rawBytes, not %T", v)
	}
	*b = data.Materialize()
	return nil
}

func (rawCodec) Name() string { return "proto" }

// malformed returns bodies that are not a valid message of md: garbage, a
// valid message cut short, and (when md has a top-level string field) that
// field holding bytes that are not UTF-8.
func malformed(md protoreflect.MessageDescriptor) map[string][]byte {
	out := map[string][]byte{
		// Field 0 does not exist; a length running past the end.
		"garbage": {0x00, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x42},
		// A length-delimited field 1 of 100 bytes, 3 of them present.
		"truncated": protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.BytesType), 100),
	}
	out["truncated"] = append(out["truncated"], 'a', 'b', 'c')
	for i := range md.Fields().Len() {
		fd := md.Fields().Get(i)
		if fd.Kind() == protoreflect.StringKind && !fd.IsList() && !fd.IsMap() {
			b := protowire.AppendTag(nil, fd.Number(), protowire.BytesType)
			out["invalid UTF-8 in "+string(fd.Name())] = protowire.AppendBytes(b, []byte("caf\xe9 \xff"))
			break
		}
	}
	return out
}

// TestMalformedRequestsAreInvalidArgument sends raw bytes that are not a
// valid request to every RPC of every medsettle service (from the proto
// descriptors) and to the health check: each answers INVALID_ARGUMENT, not
// INTERNAL. A well-formed message of unknown fields only still decodes.
func TestMalformedRequestsAreInvalidArgument(t *testing.T) {
	ts := demoServer(t)
	type rpc struct {
		name          string
		in            protoreflect.MessageDescriptor
		client, serve bool // streaming sides
	}
	var rpcs []rpc
	protoregistry.GlobalFiles.RangeFilesByPackage(protoPackage, func(fd protoreflect.FileDescriptor) bool {
		for i := range fd.Services().Len() {
			sd := fd.Services().Get(i)
			for j := range sd.Methods().Len() {
				m := sd.Methods().Get(j)
				rpcs = append(rpcs, rpc{"/" + string(sd.FullName()) + "/" + string(m.Name()), m.Input(), m.IsStreamingClient(), m.IsStreamingServer()})
			}
		}
		return true
	})
	hd, err := protoregistry.GlobalFiles.FindDescriptorByName("grpc.health.v1.HealthCheckRequest")
	must(t, err)
	rpcs = append(rpcs, rpc{"/grpc.health.v1.Health/Check", hd.(protoreflect.MessageDescriptor), false, false})
	if len(rpcs) < 20 {
		t.Fatalf("only %d RPCs found", len(rpcs))
	}
	for _, r := range rpcs {
		for what, body := range malformed(r.in) {
			ctx, cancel := as(adminToken)
			err := callRaw(ctx, ts.conn, r.name, r.client || r.serve, body)
			cancel()
			st := status.Convert(err)
			if st.Code() != codes.InvalidArgument {
				t.Errorf("%s with %s: %v, want INVALID_ARGUMENT", r.name, what, err)
				continue
			}
			if want := fmt.Sprintf("not a valid %s message", r.in.FullName()); !strings.Contains(st.Message(), want) {
				t.Errorf("%s with %s: message %q does not say %q", r.name, what, st.Message(), want)
			}
		}
	}
	// Unknown fields are not malformed: a ListPolicies request of field
	// 99 alone lists the policies.
	ctx, cancel := as(adminToken)
	defer cancel()
	body := protowire.AppendString(protowire.AppendTag(nil, 99, protowire.BytesType), "later")
	var out rawBytes
	if err := ts.conn.Invoke(ctx, "/medsettle.v1.PolicyService/ListPolicies", (*rawBytes)(&body), &out,
		grpc.ForceCodecV2(rawCodec{})); err != nil {
		t.Fatalf("a request of an unknown field: %v", err)
	}
	var resp pb.ListPoliciesResponse
	if err := proto.Unmarshal(out, &resp); err != nil || len(resp.GetPolicies()) != 1 {
		t.Errorf("ListPolicies answered %v, %v", resp.GetPolicies(), err)
	}
	// A client without credentials learns nothing of the message: the
	// headers are checked first.
	none, cancel2 := as("")
	defer cancel2()
	err = callRaw(none, ts.conn, "/medsettle.v1.SettlementService/Settle", false, []byte{0xff})
	wantCode(t, err, codes.Unauthenticated)
}

// callRaw calls method with body as the request's bytes; a streaming
// method gets the one message, then the end of its stream.
func callRaw(ctx context.Context, conn *grpc.ClientConn, method string, streaming bool, body []byte) error {
	in := rawBytes(body)
	if !streaming {
		var out rawBytes
		return conn.Invoke(ctx, method, &in, &out, grpc.ForceCodecV2(rawCodec{}))
	}
	desc := &grpc.StreamDesc{ClientStreams: true, ServerStreams: true}
	s, err := conn.NewStream(ctx, desc, method, grpc.ForceCodecV2(rawCodec{}))
	if err != nil {
		return err
	}
	if err := s.SendMsg(&in); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	if err := s.CloseSend(); err != nil {
		return err
	}
	for {
		var out rawBytes
		if err := s.RecvMsg(&out); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}
