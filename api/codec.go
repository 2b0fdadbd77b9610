package api

import (
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// decodeRequest decodes a request message's wire bytes into m: the one
// place the server decodes what a client sent (the guard calls it for
// every message, guard.go). A message that is not valid protobuf for m's
// type (truncated, garbage, a string field that is not UTF-8) is the
// client's mistake: INVALID_ARGUMENT, naming the type and what protobuf
// found. It carries no google.rpc.BadRequest: protobuf's error names at
// most a field's type-level name, not its path in the request.
//
// grpc-go does not allow this through a codec: its receive path wraps
// every error of a codec's Unmarshal in codes.Internal (rpc_util.go recv,
// grpc-go 1.85) and writes that status at once, whatever code the codec
// returned. The guard receives each message as raw bytes (rawFrame) and
// decodes it here, after the receive path, so that the code returned here
// is the code the client sees.
//
// PreSettle's and Settle's request is decoded by decodeSettleRequest when
// it can, with the same result in fewer allocations.
func decodeRequest(b []byte, m proto.Message) error {
	if r, ok := m.(*pb.SettleRequest); ok && decodeSettleRequest(b, r) {
		return nil
	}
	if err := proto.Unmarshal(b, m); err != nil {
		return statusError(codes.InvalidArgument,
			fmt.Sprintf("the request is not a valid %s message: %v", m.ProtoReflect().Descriptor().FullName(), err))
	}
	return nil
}
