package api

import (
	"slices"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
	"github.com/medsettle/medsettle/store"
)

// The hot audited call, Settle, has its ids read from the generated types
// instead of by reflection (auditFields). Each reads exactly what
// auditFields would: TestAuditFastPathsMatchReflection compares them.

// settleRequestIDs is requestIDs of a SettleRequest: its only well-known
// fields are request_id, institution_id and person_id, and it holds no
// message but its items (a list, not read).
func settleRequestIDs(m *pb.SettleRequest) auditIDs {
	var ids auditIDs
	ids[0] = cutString(m.GetRequestId(), store.MaxAuditString)
	ids[2] = cutString(m.GetPersonId(), store.MaxAuditString)
	ids[3] = cutString(m.GetInstitutionId(), store.MaxAuditString)
	return ids
}

// settleResultIDs is resultIDs of a SettleResponse: the settlement id of
// its settlement (the response's only message; nothing deeper is read).
func settleResultIDs(ids []string, m *pb.SettleResponse) []string {
	id := cutString(m.GetSettlement().GetSettlementId(), store.MaxAuditString)
	if id != "" && len(ids) < store.MaxAuditResultIDs && !slices.Contains(ids, id) {
		ids = append(ids, id)
	}
	return ids
}
