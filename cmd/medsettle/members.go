package main

import (
	"context"
	"encoding/csv"
	"errors"
	"strings"

	"google.golang.org/grpc"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// memberColumns is the header of a members CSV file.
var memberColumns = []string{"person_id"}

// importMembers enrols the file's persons in contract, in EnrollMembers
// calls of at most perCall persons.
func importMembers(ctx context.Context, client pb.ClearingServiceClient, contract string, rd *csv.Reader, rep *importReport, perCall int) error {
	if err := readHeader(rd, memberColumns); err != nil {
		return err
	}
	return importInCalls(rd, rep, perCall, func() (bulkCall, error) {
		ctx, cancel := context.WithCancel(ctx)
		stream, err := client.EnrollMembers(ctx)
		if err != nil {
			cancel()
			return nil, err
		}
		return &membersCall{contract: contract, stream: stream, cancel: cancel}, nil
	})
}

// membersCall is one EnrollMembers call.
type membersCall struct {
	contract string
	stream   grpc.ClientStreamingClient[pb.EnrollMembersRequest, pb.EnrollMembersResponse]
	cancel   context.CancelFunc
}

func (c *membersCall) add(rec []string) error {
	if len(rec) != 1 {
		return rowError{errors.New("has more than one field; the file has one column, person_id")}
	}
	id := strings.TrimSpace(rec[0])
	if id == "" {
		return rowError{errors.New("person_id is empty")}
	}
	return c.stream.Send(&pb.EnrollMembersRequest{ContractId: c.contract, PersonId: id})
}

func (c *membersCall) finish() (callAnswer, error) {
	defer c.cancel()
	resp, err := c.stream.CloseAndRecv()
	if err != nil {
		return callAnswer{}, err
	}
	ans := callAnswer{imported: int(resp.GetEnrolled()), rejected: int(resp.GetRejected())}
	for _, r := range resp.GetRejections() {
		ans.listed = append(ans.listed, indexedRejection{int(r.GetIndex()), r.GetPersonId(), r.GetReason()})
	}
	return ans, nil
}
