package api

import (
	"context"
	"errors"
	"io"
	"log/slog"

	"github.com/medsettle/medsettle/engine"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
	"github.com/medsettle/medsettle/store"
)

// MaxImportRejections bounds how many rejected messages one ImportPersons
// response lists; rejected counts them all.
const MaxImportRejections = 1000

// MaxImportPersons bounds the persons of one ImportPersons call, which
// stores them in one atomic step at the end of the stream and so holds
// them in memory until then. `medsettle import` sends larger files in
// several calls.
const MaxImportPersons = 100_000

// RegistryService serves persons and institutions.
type RegistryService struct {
	pb.UnimplementedRegistryServiceServer
	store store.Store
	log   *slog.Logger
}

// PutPerson creates or replaces a person (admin). The account balance is
// an opening balance: a person already registered keeps the live one, and
// the answer carries the person as stored. The identities are replaced
// whole, checked with every problem named (engine.CheckIdentities), and
// answered in canonical order (engine.CompareIdentities).
func (s *RegistryService) PutPerson(ctx context.Context, req *pb.PutPersonRequest) (*pb.PutPersonResponse, error) {
	p, err := s.putPerson(ctx, req.GetPerson())
	if err != nil {
		return nil, toStatus(ctx, s.log, "PutPerson", err)
	}
	return &pb.PutPersonResponse{Person: personToProto(p)}, nil
}

func (s *RegistryService) putPerson(ctx context.Context, in *pb.Person) (engine.Person, error) {
	if err := requireAdmin(ctx); err != nil {
		return engine.Person{}, err
	}
	var p parser
	person := p.person("person", in)
	if err := p.v.Err(); err != nil {
		return engine.Person{}, err
	}
	if err := s.store.PutPerson(ctx, person); err != nil {
		return engine.Person{}, err
	}
	// The answer is the stored person, live balance included.
	return s.store.GetPerson(ctx, person.ID)
}

// AdjustAccount credits or debits a person's personal account (admin):
// exactly one of credit and debit is non-zero; a debit above the balance
// is FAILED_PRECONDITION and changes nothing. Idempotent on request_id
// among AdjustAccount calls: a retry answers the first answer, another
// body under the id is ALREADY_EXISTS.
func (s *RegistryService) AdjustAccount(ctx context.Context, req *pb.AdjustAccountRequest) (*pb.AdjustAccountResponse, error) {
	a, err := s.adjustAccount(ctx, req)
	if err != nil {
		return nil, toStatusWithID(ctx, req.GetRequestId(), s.log, "AdjustAccount", err)
	}
	return &pb.AdjustAccountResponse{Person: personToProto(a.Person)}, nil
}

func (s *RegistryService) adjustAccount(ctx context.Context, req *pb.AdjustAccountRequest) (store.Adjustment, error) {
	if err := requireAdmin(ctx); err != nil {
		return store.Adjustment{}, err
	}
	var p parser
	engine.CheckID(&p.v, "request_id", req.GetRequestId())
	engine.CheckID(&p.v, "person_id", req.GetPersonId())
	credit := p.moneyOrZero("credit", req.GetCredit())
	debit := p.moneyOrZero("debit", req.GetDebit())
	if err := p.v.Err(); err == nil && credit.IsZero() == debit.IsZero() {
		msg := "give exactly one of credit and debit, not both"
		if credit.IsZero() {
			msg = "give exactly one of credit and debit: both are zero"
		}
		p.v.Addf("credit", "%s", msg)
		p.v.Addf("debit", "%s", msg)
	}
	if req.GetReason() == "" {
		p.v.Addf("reason", "is required: say why the account is adjusted")
	}
	engine.CheckText(&p.v, "reason", req.GetReason(), engine.MaxReasonLen)
	if err := p.v.Err(); err != nil {
		return store.Adjustment{}, err
	}
	return s.store.AdjustAccount(ctx, store.Adjustment{
		RequestID: req.GetRequestId(), PersonID: req.GetPersonId(), Credit: credit, Debit: debit,
		Reason: req.GetReason(), By: principalFrom(ctx).String(),
	})
}

// GetPerson reads a person, its identities in canonical order; every role
// may.
func (s *RegistryService) GetPerson(ctx context.Context, req *pb.GetPersonRequest) (*pb.GetPersonResponse, error) {
	p, err := s.getPerson(ctx, req.GetPersonId())
	if err != nil {
		return nil, toStatus(ctx, s.log, "GetPerson", err)
	}
	return &pb.GetPersonResponse{Person: personToProto(p)}, nil
}

func (s *RegistryService) getPerson(ctx context.Context, id string) (engine.Person, error) {
	if err := requireReader(ctx); err != nil {
		return engine.Person{}, err
	}
	var v engine.Violations
	engine.CheckID(&v, "person_id", id)
	if err := v.Err(); err != nil {
		return engine.Person{}, err
	}
	return s.store.GetPerson(ctx, id)
}

// ImportPersons stores a stream of persons (admin) in one atomic step when
// the stream ends. A bad message is reported in rejected and skipped; the
// others are stored. A call that fails (the stream broken or cancelled,
// more than MaxImportPersons persons, the store failing) stores nothing.
func (s *RegistryService) ImportPersons(stream pb.RegistryService_ImportPersonsServer) error {
	ctx := stream.Context()
	if err := requireAdmin(ctx); err != nil {
		return err
	}
	resp := &pb.ImportPersonsResponse{}
	rejected := 0
	var valid []engine.Person
	for index := int32(0); ; index++ {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if index == MaxImportPersons {
			return toStatus(ctx, s.log, "ImportPersons", invalid("person",
				"one ImportPersons call takes at most %d persons; nothing was stored: send the rest in another call", MaxImportPersons))
		}
		var p parser
		person := p.person("person", msg.GetPerson())
		if err := p.v.Err(); err != nil {
			rejected++
			if len(resp.Rejections) < MaxImportRejections {
				resp.Rejections = append(resp.Rejections, &pb.ImportRejection{Index: index, PersonId: msg.GetPerson().GetPersonId(), Reason: err.Error()})
			}
			continue
		}
		valid = append(valid, person)
	}
	if err := s.store.PutPersons(ctx, valid); err != nil {
		return toStatus(ctx, s.log, "ImportPersons", err)
	}
	resp.Imported = int32(len(valid))
	resp.Rejected = int32(rejected)
	return stream.SendAndClose(resp)
}

// PutInstitution creates or replaces an institution (admin).
func (s *RegistryService) PutInstitution(ctx context.Context, req *pb.PutInstitutionRequest) (*pb.PutInstitutionResponse, error) {
	in, err := s.putInstitution(ctx, req.GetInstitution())
	if err != nil {
		return nil, toStatus(ctx, s.log, "PutInstitution", err)
	}
	return &pb.PutInstitutionResponse{Institution: institutionToProto(in)}, nil
}

func (s *RegistryService) putInstitution(ctx context.Context, in *pb.Institution) (engine.Institution, error) {
	if err := requireAdmin(ctx); err != nil {
		return engine.Institution{}, err
	}
	var p parser
	inst := p.institution("institution", in)
	if err := p.v.Err(); err != nil {
		return engine.Institution{}, err
	}
	return inst, s.store.PutInstitution(ctx, inst)
}

// GetInstitution reads an institution: administrators, clearing and the
// institution itself (its budget is its own business).
func (s *RegistryService) GetInstitution(ctx context.Context, req *pb.GetInstitutionRequest) (*pb.GetInstitutionResponse, error) {
	in, err := s.getInstitution(ctx, req.GetInstitutionId())
	if err != nil {
		return nil, toStatus(ctx, s.log, "GetInstitution", err)
	}
	return &pb.GetInstitutionResponse{Institution: institutionToProto(in)}, nil
}

func (s *RegistryService) getInstitution(ctx context.Context, id string) (engine.Institution, error) {
	if err := requireReaderOf(ctx, id); err != nil {
		return engine.Institution{}, err
	}
	var v engine.Violations
	engine.CheckID(&v, "institution_id", id)
	if err := v.Err(); err != nil {
		return engine.Institution{}, err
	}
	return s.store.GetInstitution(ctx, id)
}
