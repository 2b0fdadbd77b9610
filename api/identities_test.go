package api

import (
	"fmt"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// pbIdentity is an Identity message.
func pbIdentity(c pb.PersonCategory, from, to string) *pb.Identity {
	return &pb.Identity{Category: c, ValidFrom: from, ValidTo: to}
}

const (
	idDestitute  = pb.PersonCategory_PERSON_CATEGORY_DESTITUTE
	idMinLiving  = pb.PersonCategory_PERSON_CATEGORY_MINIMUM_LIVING
	idMonitored  = pb.PersonCategory_PERSON_CATEGORY_MONITORED
	idAlleviated = pb.PersonCategory_PERSON_CATEGORY_POVERTY_ALLEVIATED
)

// residentWith is a resident of 610300 with the identities given.
func residentWith(id string, ids ...*pb.Identity) *pb.Person {
	return &pb.Person{PersonId: id, Name: id, Region: "610300", Scheme: pb.Scheme_SCHEME_RESIDENT,
		ContributionYears: 2, AccountBalance: "0.00", Identities: ids}
}

// identityText renders identities as "CATEGORY from..to; ...".
func identityText(ids []*pb.Identity) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strings.TrimPrefix(id.GetCategory().String(), "PERSON_CATEGORY_") + " " + id.GetValidFrom() + ".." + id.GetValidTo()
	}
	return strings.Join(parts, "; ")
}

// TestIdentitiesRoundTrip: PutPerson, GetPerson and ImportPersons carry
// identities on both stores, answered in canonical order (valid_from,
// then category, then valid_to) whatever order they were given in;
// replacing a person replaces them.
func TestIdentitiesRoundTrip(t *testing.T) {
	for _, kind := range storeKinds {
		t.Run(string(kind), func(t *testing.T) {
			ts := startServerOn(t, newStore(t, kind), map[string]string{adminToken: "admin"})
			ctx, cancel := as(adminToken)
			defer cancel()
			in := residentWith("ID-1",
				pbIdentity(idMinLiving, "2026-07-01", "2026-12-31"),
				pbIdentity(idMonitored, "2026-01-01", "2026-12-31"),
				pbIdentity(idMonitored, "2024-01-01", "2025-12-31"),
				pbIdentity(idDestitute, "2026-01-01", "2026-03-31"),
				pbIdentity(idAlleviated, "2026-01-01", "2026-01-31"),
			)
			in.Category = idAlleviated
			const canonical = "MONITORED 2024-01-01..2025-12-31; DESTITUTE 2026-01-01..2026-03-31; MONITORED 2026-01-01..2026-12-31; " +
				"POVERTY_ALLEVIATED 2026-01-01..2026-01-31; MINIMUM_LIVING 2026-07-01..2026-12-31"
			put, err := ts.registry.PutPerson(ctx, &pb.PutPersonRequest{Person: in})
			must(t, err)
			if got := identityText(put.GetPerson().GetIdentities()); got != canonical {
				t.Errorf("PutPerson answered\n  %s\nwant\n  %s", got, canonical)
			}
			got, err := ts.registry.GetPerson(ctx, &pb.GetPersonRequest{PersonId: "ID-1"})
			must(t, err)
			if txt := identityText(got.GetPerson().GetIdentities()); txt != canonical {
				t.Errorf("GetPerson answered\n  %s\nwant\n  %s", txt, canonical)
			}
			if got.GetPerson().GetCategory() != idAlleviated {
				t.Errorf("category %s, want the undated %s kept beside the identities", got.GetPerson().GetCategory(), idAlleviated)
			}

			// Replaced by a person without identities: none left.
			_, err = ts.registry.PutPerson(ctx, &pb.PutPersonRequest{Person: residentWith("ID-1")})
			must(t, err)
			got, err = ts.registry.GetPerson(ctx, &pb.GetPersonRequest{PersonId: "ID-1"})
			must(t, err)
			if n := len(got.GetPerson().GetIdentities()); n != 0 {
				t.Errorf("after a replacement without identities: %d left", n)
			}

			// ImportPersons: the same mapping, the same order.
			stream, err := ts.registry.ImportPersons(ctx)
			must(t, err)
			must(t, stream.Send(&pb.ImportPersonsRequest{Person: residentWith("ID-2",
				pbIdentity(idMonitored, "2026-05-01", "2026-08-31"), pbIdentity(idDestitute, "2026-05-01", "2026-05-31"))}))
			resp, err := stream.CloseAndRecv()
			must(t, err)
			if resp.GetImported() != 1 || resp.GetRejected() != 0 {
				t.Fatalf("import: %v", resp)
			}
			got, err = ts.registry.GetPerson(ctx, &pb.GetPersonRequest{PersonId: "ID-2"})
			must(t, err)
			if txt, want := identityText(got.GetPerson().GetIdentities()), "DESTITUTE 2026-05-01..2026-05-31; MONITORED 2026-05-01..2026-08-31"; txt != want {
				t.Errorf("imported person: %s, want %s", txt, want)
			}
		})
	}
}

// badIdentities is a person whose identities have a problem in every
// field, and the fields PutPerson must name (sorted).
func badIdentities(id string) (*pb.Person, []string) {
	p := residentWith(id,
		pbIdentity(idMonitored, "2026-01-01", "2026-06-30"),                         // 0: fine
		pbIdentity(pb.PersonCategory_PERSON_CATEGORY_UNSPECIFIED, "2026-01-01", ""), // 1: no category, no valid_to
		pbIdentity(pb.PersonCategory_PERSON_CATEGORY_ORDINARY, "2026-02-30", "x"),   // 2: ordinary, dates that are no dates
		pbIdentity(pb.PersonCategory(42), "2026-05-01", "2026-04-30"),               // 3: unknown, ends before it starts
		pbIdentity(idMonitored, "2026-06-30", "2026-09-30"),                         // 4: overlaps 0
		pbIdentity(idDestitute, "", "2026-12-31"),                                   // 5: no valid_from
		pbIdentity(idDestitute, "1899-12-31", "2026-12-31"),                         // 6: before any insurance year
	)
	return p, []string{
		"person.identities[1].category", "person.identities[1].valid_to",
		"person.identities[2].category", "person.identities[2].valid_from", "person.identities[2].valid_to",
		"person.identities[3].category", "person.identities[3].valid_to",
		"person.identities[4]",
		"person.identities[5].valid_from",
		"person.identities[6].valid_from",
	}
}

// TestIdentitiesInvalid: PutPerson of a person with bad identities is
// INVALID_ARGUMENT naming every bad field, each once, and changes nothing;
// so is a person with more than MaxIdentities.
func TestIdentitiesInvalid(t *testing.T) {
	for _, kind := range storeKinds {
		t.Run(string(kind), func(t *testing.T) {
			ts := startServerOn(t, newStore(t, kind), map[string]string{adminToken: "admin"})
			ctx, cancel := as(adminToken)
			defer cancel()
			first := residentWith("ID-BAD", pbIdentity(idDestitute, "2026-01-01", "2026-12-31"))
			_, err := ts.registry.PutPerson(ctx, &pb.PutPersonRequest{Person: first})
			must(t, err)
			before, err := ts.registry.GetPerson(ctx, &pb.GetPersonRequest{PersonId: "ID-BAD"})
			must(t, err)

			bad, want := badIdentities("ID-BAD")
			bad.Name = "changed"
			_, err = ts.registry.PutPerson(ctx, &pb.PutPersonRequest{Person: bad})
			if got := fieldViolations(t, err); strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("violations\n got %v\nwant %v", got, want)
			}
			for _, part := range []string{
				`person.identities[3].valid_to: 2026-04-30 is before valid_from 2026-05-01`,
				`person.identities[2].valid_from: "2026-02-30" is not a date of the form YYYY-MM-DD`,
				`person.identities[1].valid_to: is required (YYYY-MM-DD)`,
			} {
				if !strings.Contains(violationText(err), part) {
					t.Errorf("no violation says %q:\n%s", part, violationText(err))
				}
			}

			many := residentWith("ID-BAD")
			for i := range 65 {
				many.Identities = append(many.Identities, pbIdentity(idMonitored, fmt.Sprintf("%d-01-01", 1960+i), fmt.Sprintf("%d-12-31", 1960+i)))
			}
			_, err = ts.registry.PutPerson(ctx, &pb.PutPersonRequest{Person: many})
			if got := fieldViolations(t, err); strings.Join(got, ",") != "person.identities" {
				t.Errorf("65 identities: violations %v, want [person.identities]", got)
			}

			after, err := ts.registry.GetPerson(ctx, &pb.GetPersonRequest{PersonId: "ID-BAD"})
			must(t, err)
			if !proto.Equal(before.GetPerson(), after.GetPerson()) {
				t.Errorf("a refused PutPerson changed the person:\n%s\n%s", protojson.Format(before.GetPerson()), protojson.Format(after.GetPerson()))
			}
		})
	}
}

// violationText joins a BadRequest's violations as "field: description"
// lines.
func violationText(err error) string {
	var b strings.Builder
	for _, v := range badRequestOf(err).GetFieldViolations() {
		b.WriteString(v.GetField() + ": " + v.GetDescription() + "\n")
	}
	return b.String()
}

// badRequestOf is the BadRequest detail of a status error, or nil.
func badRequestOf(err error) *errdetails.BadRequest {
	for _, d := range status.Convert(err).Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			return br
		}
	}
	return nil
}

// TestImportPersonsRejectsBadIdentities: ImportPersons skips a person with
// bad identities, reports it with every bad field, and stores the others.
func TestImportPersonsRejectsBadIdentities(t *testing.T) {
	ts := startServer(t, map[string]string{adminToken: "admin"})
	ctx, cancel := as(adminToken)
	defer cancel()
	stream, err := ts.registry.ImportPersons(ctx)
	must(t, err)
	bad, want := badIdentities("IMP-BAD")
	must(t, stream.Send(&pb.ImportPersonsRequest{Person: residentWith("IMP-OK", pbIdentity(idMinLiving, "2026-01-01", "2026-12-31"))}))
	must(t, stream.Send(&pb.ImportPersonsRequest{Person: bad}))
	resp, err := stream.CloseAndRecv()
	must(t, err)
	if resp.GetImported() != 1 || resp.GetRejected() != 1 || len(resp.GetRejections()) != 1 {
		t.Fatalf("import: %v", resp)
	}
	rj := resp.GetRejections()[0]
	if rj.GetIndex() != 1 || rj.GetPersonId() != "IMP-BAD" {
		t.Errorf("rejection %v, want index 1, IMP-BAD", rj)
	}
	for _, f := range want { // the reason states every one of these ten
		if !strings.Contains(rj.GetReason(), f+":") {
			t.Errorf("rejection reason does not name %s: %s", f, rj.GetReason())
		}
	}
	_, err = ts.registry.GetPerson(ctx, &pb.GetPersonRequest{PersonId: "IMP-BAD"})
	wantCode(t, err, codes.NotFound) // nothing stored for it
	got, err := ts.registry.GetPerson(ctx, &pb.GetPersonRequest{PersonId: "IMP-OK"})
	must(t, err)
	if txt := identityText(got.GetPerson().GetIdentities()); txt != "MINIMUM_LIVING 2026-01-01..2026-12-31" {
		t.Errorf("imported person's identities: %s", txt)
	}
}
