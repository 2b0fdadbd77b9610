package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// TestIdentitiesFromCSV: the cell's entries, short or full category
// names in any case, spaces and empty entries ignored; every malformed
// entry refused with what to write instead.
func TestIdentitiesFromCSV(t *testing.T) {
	got, err := identitiesFromCSV(" minimum_living:2026-01-01:2026-12-31 ; PERSON_CATEGORY_MONITORED: 2026-07-01 :2026-12-31;; ")
	must(t, err)
	if txt := csvIdentityText(got); txt != "PERSON_CATEGORY_MINIMUM_LIVING 2026-01-01..2026-12-31; PERSON_CATEGORY_MONITORED 2026-07-01..2026-12-31" {
		t.Errorf("identities %s", txt)
	}
	if got, err := identitiesFromCSV(""); err != nil || len(got) != 0 {
		t.Errorf("an empty cell: %v, %v; want none", got, err)
	}
	// Dates are the server's to check: sent as written.
	got, err = identitiesFromCSV("DESTITUTE:2026-02-30:yesterday")
	must(t, err)
	if txt := csvIdentityText(got); txt != "PERSON_CATEGORY_DESTITUTE 2026-02-30..yesterday" {
		t.Errorf("identities %s", txt)
	}
	for cell, want := range map[string]string{
		"MONITORED:2026-01-01": `identities[0] "MONITORED:2026-01-01" is not CATEGORY:FROM:TO; write the entries like ` +
			`"MINIMUM_LIVING:2026-01-01:2026-12-31;MONITORED:2026-07-01:2026-12-31"`,
		"DESTITUTE:2026-01-01:2026-12-31;:2026-01-01:2026-02-01": `identities[1] ":2026-01-01:2026-02-01" is not CATEGORY:FROM:TO; write the entries like ` +
			`"MINIMUM_LIVING:2026-01-01:2026-12-31;MONITORED:2026-07-01:2026-12-31"`,
		"DESTITUTE:2026-01-01:2026-12-31:x": `identities[0] "DESTITUTE:2026-01-01:2026-12-31:x" is not CATEGORY:FROM:TO; write the entries like ` +
			`"MINIMUM_LIVING:2026-01-01:2026-12-31;MONITORED:2026-07-01:2026-12-31"`,
		"MONITORED:2026-01-01:2026-12-31;RICH:2026-01-01:2026-12-31": `identities[1].category "RICH" is not one of the PERSON_CATEGORY values: ` +
			`use DESTITUTE, MINIMUM_LIVING, MONITORED or POVERTY_ALLEVIATED`,
	} {
		_, err := identitiesFromCSV(cell)
		if err == nil || err.Error() != want {
			t.Errorf("%q: %v\nwant %s", cell, err, want)
		}
	}
}

func csvIdentityText(ids []*pb.Identity) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = id.GetCategory().String() + " " + id.GetValidFrom() + ".." + id.GetValidTo()
	}
	return strings.Join(parts, "; ")
}

// TestImportIdentities imports persons.csv with an identities column into
// a running server: good rows are stored with their identities (answered
// in canonical order); every bad row is rejected with its line, the field
// and what is wrong, whether the import itself or the server found it;
// a file without the column still imports.
func TestImportIdentities(t *testing.T) {
	addr := startDemoServer(t, "")
	dir := t.TempDir()
	persons := filepath.Join(dir, "persons.csv")
	must(t, os.WriteFile(persons, []byte(strings.Join([]string{
		"person_id,name,region,scheme,employment,category,contribution_years,account_balance,identities",
		`I1,One,610300,RESIDENT,,,1,,MONITORED:2026-07-01:2026-12-31;MINIMUM_LIVING:2026-01-01:2026-12-31`,
		`I2,Two,610300,RESIDENT,,DESTITUTE,1,,`,
		`I3,Three,610300,RESIDENT,,,1,,MONITORED:2026-01-01`,
		`I4,Four,610300,RESIDENT,,,1,,RICH:2026-01-01:2026-12-31`,
		`I5,Five,610300,RESIDENT,,,1,,MONITORED:2026-05-01:2026-04-30`,
		`I6,Six,610300,RESIDENT,,,1,,MONITORED:2026-01-01:2026-06-30;MONITORED:2026-06-30:2026-12-31`,
		`I7,Seven,610300,RESIDENT,,,1,,ORDINARY:2026-01-01:2026-12-31;DESTITUTE:2026-02-30:2026-12-31`,
		`I8,Eight,610300,RESIDENT,,,1,`,
		"",
	}, "\n")), 0o600))
	var out, errOut bytes.Buffer
	err := runImport(context.Background(), []string{"persons", persons, "--addr", addr}, &out, &errOut)
	if exitCode(err) != 1 || !strings.HasPrefix(err.Error(), "6 of 8 rows rejected: ") {
		t.Fatalf("import: exit %d: %v\n%s", exitCode(err), err, out.String())
	}
	for _, want := range []string{
		"persons: 8 rows read, 2 imported, 6 rejected in ",
		`  rejected line 4 (I3): identities[0] "MONITORED:2026-01-01" is not CATEGORY:FROM:TO; write the entries like "MINIMUM_LIVING:2026-01-01:2026-12-31;MONITORED:2026-07-01:2026-12-31"`,
		`  rejected line 5 (I4): identities[0].category "RICH" is not one of the PERSON_CATEGORY values: use DESTITUTE, MINIMUM_LIVING, MONITORED or POVERTY_ALLEVIATED`,
		"  rejected line 6 (I5): person.identities[0].valid_to: 2026-04-30 is before valid_from 2026-05-01: an identity ends on or after the day it starts",
		"  rejected line 7 (I6): person.identities[1]: PERSON_CATEGORY_MONITORED from 2026-06-30 to 2026-12-31 overlaps identities[0] (2026-01-01 to 2026-06-30) of the same category: give one period once, as one entry",
		`  rejected line 8 (I7): person.identities[1].valid_from: "2026-02-30" is not a date of the form YYYY-MM-DD; ` +
			"person.identities[0].category: must be a category a person holds: PERSON_CATEGORY_DESTITUTE, _MINIMUM_LIVING, _MONITORED or _POVERTY_ALLEVIATED (got PERSON_CATEGORY_ORDINARY)",
		"  rejected line 9 (I8): has 8 fields; want 9, as the header",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}

	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	must(t, err)
	defer conn.Close()
	reg := pb.NewRegistryServiceClient(conn)
	ctx := context.Background()
	for id, want := range map[string]string{
		"I1": "PERSON_CATEGORY_MINIMUM_LIVING 2026-01-01..2026-12-31; PERSON_CATEGORY_MONITORED 2026-07-01..2026-12-31",
		"I2": "",
	} {
		p, err := reg.GetPerson(ctx, &pb.GetPersonRequest{PersonId: id})
		must(t, err)
		if txt := csvIdentityText(p.GetPerson().GetIdentities()); txt != want {
			t.Errorf("%s stored with identities %q, want %q", id, txt, want)
		}
	}
	for _, id := range []string{"I3", "I4", "I5", "I6", "I7", "I8"} {
		if _, err := reg.GetPerson(ctx, &pb.GetPersonRequest{PersonId: id}); err == nil {
			t.Errorf("rejected %s was stored", id)
		}
	}

	// Without the column: the header of old files; I1 re-imported keeps
	// no identities (the row has none to give).
	old := filepath.Join(dir, "old.csv")
	must(t, os.WriteFile(old, []byte("person_id,name,region,scheme,employment,category,contribution_years,account_balance\n"+
		"I1,One,610300,RESIDENT,,,1,\n"), 0o600))
	out.Reset()
	must(t, runImport(ctx, []string{"persons", old, "--addr", addr}, &out, &errOut))
	p, err := reg.GetPerson(ctx, &pb.GetPersonRequest{PersonId: "I1"})
	must(t, err)
	if n := len(p.GetPerson().GetIdentities()); n != 0 {
		t.Errorf("I1 re-imported without identities has %d", n)
	}

	// A header with the column misspelt is refused before anything is sent.
	wrong := filepath.Join(dir, "wrong.csv")
	must(t, os.WriteFile(wrong, []byte("person_id,name,region,scheme,employment,category,contribution_years,account_balance,identity\n"), 0o600))
	err = runImport(ctx, []string{"persons", wrong, "--addr", addr}, &out, &errOut)
	if exitCode(err) != 2 || !strings.HasSuffix(err.Error(), `; it must be "person_id,name,region,scheme,employment,category,contribution_years,account_balance,identities" (identities may be left out)`) {
		t.Errorf("misspelt header: exit %d: %v", exitCode(err), err)
	}
}
