package api

import (
	"github.com/medsettle/medsettle/engine"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// identities checks and maps a person's dated identities; problems go to
// p.v under path ("person.identities"), every one of them. The result is
// in canonical order (engine.CompareIdentities), which is how persons are
// stored and answered; the violations name the entries as given.
func (p *parser) identities(path string, in []*pb.Identity) []engine.Identity {
	if len(in) == 0 {
		return nil
	}
	if !engine.CheckIdentityCount(&p.v, path, len(in)) {
		return nil
	}
	out := make([]engine.Identity, len(in))
	for i, id := range in {
		out[i].Category = engine.Category(id.GetCategory())
		if s := id.GetValidFrom(); s != "" {
			out[i].ValidFrom = p.dateAt(engine.IndexPath(path, i, "valid_from"), s)
		}
		if s := id.GetValidTo(); s != "" {
			out[i].ValidTo = p.dateAt(engine.IndexPath(path, i, "valid_to"), s)
		}
	}
	// Categories, missing dates, the order of the dates, overlaps; a date
	// that did not parse is not reported again.
	p.v.MergeNew(engine.ValidateIdentities(path, out))
	return engine.SortedIdentities(out)
}

// identitiesToProto maps identities in canonical order.
func identitiesToProto(in []engine.Identity) []*pb.Identity {
	if len(in) == 0 {
		return nil
	}
	in = engine.SortedIdentities(in)
	out := make([]*pb.Identity, len(in))
	for i, id := range in {
		out[i] = &pb.Identity{Category: pb.PersonCategory(id.Category), ValidFrom: id.ValidFrom.String(), ValidTo: id.ValidTo.String()}
	}
	return out
}
