package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/medsettle/medsettle/engine"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
	"github.com/medsettle/medsettle/store"
)

// What one error status may carry. A status travels in the response's
// trailers, which a client accepts up to its header list limit (8 KiB in
// grpc-java by default; a larger block is refused with RST_STREAM and the
// client sees INTERNAL instead of the status). The message travels twice
// (grpc-message, percent-encoded, and inside grpc-status-details-bin) and
// the details once (base64, 4/3 of their size): with these limits the
// trailers of any status stay under 6.5 KiB.
const (
	// MaxStatusMessageBytes caps the message of every status the API
	// returns, counted as sent in grpc-message (a byte outside printable
	// ASCII takes three); a longer message is cut and ends in "…".
	MaxStatusMessageBytes = 512
	// MaxListedViolations is the most field violations one
	// google.rpc.BadRequest lists: the first ones, in the order found.
	MaxListedViolations = 100
	// MaxStatusDetailsBytes caps the encoded google.rpc.Status (code,
	// message and details) of an INVALID_ARGUMENT answer: BadRequest lists
	// the first violations that fit, at most MaxListedViolations.
	MaxStatusDetailsBytes = 4608
	// maxFieldBytes and maxDescriptionBytes cap one violation's texts.
	maxFieldBytes       = 128
	maxDescriptionBytes = 256
	// reservedStatusBytes is what MaxStatusDetailsBytes keeps for the
	// code, the message and the ErrorInfo beside the violations.
	reservedStatusBytes = MaxStatusMessageBytes + 512
)

// ErrorDomain is the google.rpc.ErrorInfo domain of medsettle's errors.
const ErrorDomain = "medsettle"

// ReasonViolationsTruncated is the google.rpc.ErrorInfo reason added when
// BadRequest lists only some of the violations; its metadata "violations"
// and "listed" give the counts.
const ReasonViolationsTruncated = "VIOLATIONS_TRUNCATED"

// toStatus is the one place where errors become gRPC status codes.
// Invalid input carries a google.rpc.BadRequest naming the bad fields
// (bounded: see MaxStatusDetailsBytes); anything unexpected is logged in
// full and answered "internal error". Every message is capped at
// MaxStatusMessageBytes.
func toStatus(ctx context.Context, log *slog.Logger, method string, err error) error {
	if err == nil {
		return nil
	}
	if st, ok := status.FromError(err); ok {
		return boundStatus(st).Err()
	}
	var ve *engine.ValidationError
	var mismatch *engine.CrossRegionMismatch
	switch {
	case errors.As(err, &mismatch):
		// The caller declared a proto value: answer in proto values.
		return statusError(codes.FailedPrecondition, fmt.Sprintf("%v: the request says %s, the records say %s: %s",
			engine.ErrCrossRegion, pb.CrossRegion(mismatch.Declared), pb.CrossRegion(mismatch.Decided), mismatch.Reason))
	case errors.As(err, &ve):
		return invalidStatus(ve).Err()
	case errors.Is(err, store.ErrNotFound):
		return statusError(codes.NotFound, err.Error())
	case errors.Is(err, store.ErrConflict):
		return statusError(codes.AlreadyExists, err.Error()+"; send a new request id for a new request")
	case errors.Is(err, engine.ErrNoPolicy):
		return statusError(codes.FailedPrecondition, err.Error()+"; load one with PolicyService.PutPolicy")
	case errors.Is(err, errNoContribution), errors.Is(err, errPlanRange):
		return statusError(codes.FailedPrecondition, err.Error())
	case errors.Is(err, store.ErrInsufficientBalance):
		return statusError(codes.FailedPrecondition, err.Error()+"; nothing was changed")
	case errors.Is(err, engine.ErrNotCovered), errors.Is(err, engine.ErrAlreadyReversed),
		errors.Is(err, engine.ErrFinalExists), errors.Is(err, engine.ErrNoClearingRules), errors.Is(err, engine.ErrContractInUse),
		errors.Is(err, engine.ErrCrossRegion), errors.Is(err, ErrSettleCheck), errors.Is(err, store.ErrVisitNotOpen):
		return statusError(codes.FailedPrecondition, err.Error())
	case errors.Is(err, engine.ErrForbidden):
		return statusError(codes.PermissionDenied, err.Error())
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "request cancelled")
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "deadline exceeded")
	case errors.Is(err, store.ErrUnavailable):
		log.WarnContext(ctx, "store unavailable", logAttrs(ctx, method, err)...)
		return status.Error(codes.Unavailable, "the database is unavailable; retry with the same request id")
	}
	log.ErrorContext(ctx, "internal error", logAttrs(ctx, method, err)...)
	return status.Error(codes.Internal, "internal error")
}

// toStatusWithID is toStatus with the call's request id recorded for the
// log (withRequestID); a call without an error records nothing (no
// context is made for it).
func toStatusWithID(ctx context.Context, requestID string, log *slog.Logger, method string, err error) error {
	if err == nil {
		return nil
	}
	return toStatus(withRequestID(ctx, requestID), log, method, err)
}

// requestIDKey is the context key of the request id withRequestID records.
type requestIDKey struct{}

// withRequestID returns ctx carrying the request id of the call, so that
// toStatus logs it with an internal error or an outage: the operator can
// find the request a client is asking about.
func withRequestID(ctx context.Context, id string) context.Context {
	if id == "" {
		return ctx
	}
	return context.WithValue(ctx, requestIDKey{}, id)
}

// logAttrs are the attributes toStatus logs an error with: the method,
// the request id when the handler recorded one, the error.
func logAttrs(ctx context.Context, method string, err error) []any {
	attrs := []any{"method", method}
	if id, ok := ctx.Value(requestIDKey{}).(string); ok {
		attrs = append(attrs, "request_id", id)
	}
	return append(attrs, "err", err)
}

// statusError is status.Error with the message capped.
func statusError(c codes.Code, msg string) error {
	return status.Error(c, capMessage(msg, MaxStatusMessageBytes))
}

// boundStatus caps the message of a status built elsewhere; its details
// are kept (the API's own are bounded where they are made).
func boundStatus(st *status.Status) *status.Status {
	msg := capMessage(st.Message(), MaxStatusMessageBytes)
	if msg == st.Message() {
		return st
	}
	p := st.Proto()
	p.Message = msg
	return status.FromProto(p)
}

// invalidStatus is INVALID_ARGUMENT for ve: the message states the first
// violation and counts the others; google.rpc.BadRequest lists the first
// violations that fit in MaxStatusDetailsBytes, at most
// MaxListedViolations, each once; when some are left out, a
// google.rpc.ErrorInfo (ReasonViolationsTruncated) gives the counts.
func invalidStatus(ve *engine.ValidationError) *status.Status {
	total := len(ve.Violations)
	br := &errdetails.BadRequest{}
	size := 0
	for _, v := range ve.Violations {
		if len(br.FieldViolations) == MaxListedViolations {
			break
		}
		fv := &errdetails.BadRequest_FieldViolation{
			Field:       cutUTF8(v.Field, maxFieldBytes),
			Description: cutUTF8(v.Description, maxDescriptionBytes),
		}
		n := protowire.SizeTag(1) + protowire.SizeBytes(proto.Size(fv))
		if size+n > MaxStatusDetailsBytes-reservedStatusBytes {
			break
		}
		size += n
		br.FieldViolations = append(br.FieldViolations, fv)
	}
	listed := len(br.FieldViolations)
	msg := "invalid argument"
	if total > 0 {
		first := ve.Violations[0]
		msg += ": " + first.Field + ": " + first.Description
	}
	var suffix string
	if total > 1 {
		suffix = fmt.Sprintf(" (and %d more; google.rpc.BadRequest lists %d of %d)", total-1, listed, total)
	}
	msg = capMessage(msg, MaxStatusMessageBytes-len(suffix)) + suffix
	st := status.New(codes.InvalidArgument, msg)
	withDetails, err := st.WithDetails(br)
	if err == nil && listed < total {
		withDetails, err = withDetails.WithDetails(&errdetails.ErrorInfo{Reason: ReasonViolationsTruncated, Domain: ErrorDomain,
			Metadata: map[string]string{"violations": strconv.Itoa(total), "listed": strconv.Itoa(listed)}})
	}
	if err != nil {
		return st
	}
	return withDetails
}

// capMessage returns s, valid UTF-8, cut to at most max bytes as grpc-go
// sends it in grpc-message: printable ASCII but '%' is one byte, every
// other byte three (percent-encoded). A cut message ends in "…".
func capMessage(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if encodedLen(s) <= max {
		return s
	}
	const ellipsis = "…"
	budget := max - encodedLen(ellipsis)
	n := 0
	for i, r := range s {
		w := encodedLen(string(r))
		if n+w > budget {
			return s[:i] + ellipsis
		}
		n += w
	}
	return s
}

// encodedLen is the length of s percent-encoded as grpc-message.
func encodedLen(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= ' ' && c <= '~' && c != '%' {
			n++
		} else {
			n += 3
		}
	}
	return n
}

// cutUTF8 returns s, valid UTF-8, cut to at most max bytes on a rune
// boundary; a cut text ends in "…".
func cutUTF8(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= max {
		return s
	}
	const ellipsis = "…"
	return cutString(s, max-len(ellipsis)) + ellipsis
}

// invalid builds a validation error for one field.
func invalid(field, format string, args ...any) error {
	var v engine.Violations
	v.Addf(field, format, args...)
	return v.Err()
}
