package api

import (
	"context"
	"errors"
	"log/slog"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// toStatus is the one place where errors become gRPC status codes.
// Invalid input carries a google.rpc.BadRequest naming every bad field;
// anything unexpected is logged in full and answered "internal error".
func toStatus(ctx context.Context, log *slog.Logger, method string, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	var ve *engine.ValidationError
	switch {
	case errors.As(err, &ve):
		st := status.New(codes.InvalidArgument, ve.Error())
		br := &errdetails.BadRequest{}
		for _, v := range ve.Violations {
			br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{Field: v.Field, Description: v.Description})
		}
		if withDetails, derr := st.WithDetails(br); derr == nil {
			st = withDetails
		}
		return st.Err()
	case errors.Is(err, store.ErrNotFound):
		return status.Error(codes.NotFound, err.Error())
	case errors.Is(err, store.ErrConflict):
		return status.Error(codes.AlreadyExists, err.Error()+"; send a new request id for a new request")
	case errors.Is(err, engine.ErrNoPolicy), errors.Is(err, engine.ErrNotCovered), errors.Is(err, engine.ErrAlreadyReversed),
		errors.Is(err, engine.ErrFinalExists), errors.Is(err, engine.ErrNoClearingRules), errors.Is(err, engine.ErrContractInUse):
		return status.Error(codes.FailedPrecondition, err.Error())
	case errors.Is(err, engine.ErrForbidden):
		return status.Error(codes.PermissionDenied, err.Error())
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "request cancelled")
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "deadline exceeded")
	case errors.Is(err, store.ErrUnavailable):
		log.WarnContext(ctx, "store unavailable", "method", method, "err", err)
		return status.Error(codes.Unavailable, "the database is unavailable; retry with the same request id")
	}
	log.ErrorContext(ctx, "internal error", "method", method, "err", err)
	return status.Error(codes.Internal, "internal error")
}

// invalid builds a validation error for one field.
func invalid(field, format string, args ...any) error {
	var v engine.Violations
	v.Addf(field, format, args...)
	return v.Err()
}
