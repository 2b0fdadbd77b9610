package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPlanFlagErrors checks that a command line that cannot work is
// refused before anything is dialed, naming what is wrong, with a
// working example.
func TestPlanFlagErrors(t *testing.T) {
	dir := t.TempDir()
	prev := filepath.Join(dir, "prev.csv")
	must(t, os.WriteFile(prev, []byte(previousPlanCSV), 0o600))
	csvIn := func(more ...string) []string {
		return append([]string{"--region", "610300", "--scheme", "resident", "--year", "2026"}, more...)
	}
	const example = "\nexample: medsettle plan --region 610300 --scheme resident --year 2026 --csv plan-2026.csv"
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "plan needs --region, --scheme, --year, --csv FILE (or --diff PREVIOUS.csv)" + example},
		{csvIn(), "plan needs --csv FILE (or --diff PREVIOUS.csv)" + example},
		{[]string{"--region", " ", "--scheme", "boss", "--year", "20260", "--csv", "p.csv"},
			`--region is empty; --scheme "boss" must be employee or resident; --year 20260 is not a year` + example},
		{csvIn("--as-of", "2026-02-30", "--csv", "p.csv"), `--as-of "2026-02-30" is not a date YYYY-MM-DD` + example},
		{csvIn("--csv", ""), "--csv is empty" + example},
		{csvIn("--csv", dir), "--csv " + dir + " is a directory; name a file" + example},
		{csvIn("--csv", filepath.Join(dir, "no", "p.csv")), "--csv " + filepath.Join(dir, "no", "p.csv") + ": its directory " + filepath.Join(dir, "no") + " does not exist" + example},
		{csvIn("--diff", filepath.Join(dir, "missing.csv")), "--diff " + filepath.Join(dir, "missing.csv") + ": no such file or directory" + example},
		{csvIn("--diff", dir), "--diff " + dir + " is a directory; name the previous plan's CSV file" + example},
		{csvIn("--csv", "p.csv", "--diff-out", "d.csv"), "--diff-out needs --diff PREVIOUS.csv" + example},
		{csvIn("--diff", prev, "--diff-out", prev), "--diff-out and --diff name the same file " + prev + "; name another" + example},
		{csvIn("--diff", prev, "--csv", "x.csv", "--diff-out", "./x.csv"), "--diff-out and --csv name the same file ./x.csv; name another" + example},
		{csvIn("--csv", "p.csv", "extra"), `plan takes only flags; unexpected ["extra"] (see medsettle plan --help)`},
	} {
		var out, errOut bytes.Buffer
		err := runPlan(context.Background(), append([]string{"--addr", "127.0.0.1:1"}, c.args...), &out, &errOut)
		if err == nil || err.Error() != c.want {
			t.Errorf("%q:\n got %v\nwant %s", c.args, err, c.want)
		}
		if out.Len() > 0 {
			t.Errorf("%q: printed %q", c.args, out.String())
		}
	}
	var out, errOut bytes.Buffer
	err := runPlan(context.Background(), csvIn("--bogus"), &out, &errOut)
	if err == nil || !flagReported(err) || !strings.Contains(errOut.String(), "flag provided but not defined: -bogus") {
		t.Errorf("--bogus: %v\n%s", err, errOut.String())
	}
}

// TestPlanHelp prints the usage with the CSV formats, and succeeds.
func TestPlanHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"help"}, {"--region", "1", "--help"}} {
		var out, errOut bytes.Buffer
		if err := runPlan(context.Background(), args, &out, &errOut); err != nil {
			t.Errorf("%v: %v", args, err)
		}
		for _, want := range []string{"person_id,contribution,subsidy,payable,basis_category", "person_id,status,previous_payable,payable,change", "--diff-out FILE"} {
			if !strings.Contains(out.String()+errOut.String(), want) {
				t.Errorf("%v: the usage lacks %q", args, want)
			}
		}
	}
	if err := run(context.Background(), []string{"plan", "--help"}); err != nil {
		t.Errorf("medsettle plan --help: %v", err)
	}
	if !strings.Contains(usage, "medsettle plan --region R --scheme employee|resident --year Y [--as-of DATE] --csv FILE") ||
		!strings.Contains(usage, "[--diff PREVIOUS.csv [--diff-out FILE]]") {
		t.Error("medsettle help does not list plan")
	}
}

// TestPlanUnreachableServer says what to do, and writes nothing.
func TestPlanUnreachableServer(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "plan.csv")
	var out, errOut bytes.Buffer
	addr := freeAddr(t)
	err := runPlan(context.Background(), planArgs(addr, "--csv", path), &out, &errOut)
	want := "ExportPlan failed: Unavailable: "
	hint := "(" + path + " was not written)\n  what to do: no medsettle server answers at " + addr + ": start one (medsettle serve --demo) or pass --addr HOST:PORT (and --tls-ca FILE for a TLS server)"
	if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), hint) {
		t.Errorf("unreachable server:\n%v\nwant %s…%s", err, want, hint)
	}
	if names := dirFiles(t, dir); len(names) != 0 {
		t.Errorf("files left: %v", names)
	}
}

// TestPlanBadPreviousPlan names the line and what is wrong of every bad
// row (up to ten), or the header, before anything is dialed.
func TestPlanBadPreviousPlan(t *testing.T) {
	dir := t.TempDir()
	const head = "person_id,contribution,subsidy,payable,basis_category\n"
	for _, c := range []struct {
		name, text string
		want       []string
	}{
		{"empty", "", []string{`%s is empty: a plan CSV starts with the header "person_id,contribution,subsidy,payable,basis_category"`}},
		{"header", "person_id,payable\nA1,380.00\n",
			[]string{`%s line 1: the header is "person_id,payable"; a plan CSV (medsettle plan --csv) has "person_id,contribution,subsidy,payable,basis_category"`}},
		{"rows", "\ufeff" + head +
			"A1,380.00,0.00,380.00,\n" +
			"A3,380.00,0.00,380.00\n" +
			",380.00,0.00,380.00,\n" +
			"A0,380.00,0.00,380.00,\n" +
			"A3,380.00,0.00,380.00,\n" +
			"A4,380,x,1.234,\n" +
			"A5,380.00,340.00,380.00,MINIMUM_LIVING\n" +
			"A6,380.00,340.00,40.00,RICH\n" +
			"A7,380.00,0.00,380.00,ORDINARY\n" +
			"A8,-380.00,0.00,-380.00,\n" +
			"A9, 380.00 ,190.00,190.00, monitored \n",
			[]string{"--diff %s is not a plan CSV medsettle plan can compare with:\n" +
				"  %s line 3: has 4 fields; a plan row has 5 (person_id,contribution,subsidy,payable,basis_category)\n" +
				"  %s line 4: person_id is empty\n" +
				"  %s line 5: person_id A0 comes after A1: a plan lists each person once, sorted by person_id (as medsettle plan --csv writes it)\n" +
				// A3 on line 6 comes after A1: A3 on line 3 had too few fields.
				"  %s line 7: subsidy \"x\" is not an amount (at most two decimals, e.g. 40.00); payable \"1.234\" is not an amount (at most two decimals, e.g. 40.00)\n" +
				"  %s line 8: payable 380.00 is not contribution 380.00 − subsidy 340.00\n" +
				"  %s line 9: basis_category \"RICH\" is not a subsidised category (DESTITUTE, MINIMUM_LIVING, MONITORED, POVERTY_ALLEVIATED or empty)\n" +
				"  %s line 10: basis_category \"ORDINARY\" is not a subsidised category (DESTITUTE, MINIMUM_LIVING, MONITORED, POVERTY_ALLEVIATED or empty)\n" +
				"  %s line 11: contribution \"-380.00\" is not an amount (at most two decimals, e.g. 40.00); payable \"-380.00\" is not an amount (at most two decimals, e.g. 40.00)"}},
		{"repeated", head + "A1,380.00,0.00,380.00,\nA1,380.00,0.00,380.00,\n",
			[]string{"  %s line 3: person_id A1 repeats A1: a plan lists each person once"}},
		{"quotes", head + "A1,380.00,0.00,380.00,\n\"A2,380.00,0.00,380.00,\n",
			[]string{"  %s: parse error on line 3, column 25: extraneous or missing \" in quoted-field"}},
		{"eleven", head + strings.Repeat("A1,1.00,0.00,1.00,\n", 12),
			[]string{"  %s line 12: person_id A1 repeats A1", "  (the check stopped here)"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, c.name+".csv")
			must(t, os.WriteFile(path, []byte(c.text), 0o600))
			var out, errOut bytes.Buffer
			err := runPlan(context.Background(), planArgs("127.0.0.1:1", "--diff", path), &out, &errOut)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if w = strings.ReplaceAll(w, "%s", path); !strings.Contains(err.Error(), w) {
					t.Errorf("error:\n%v\nlacks\n%s", err, w)
				}
			}
			if strings.Contains(err.Error(), "Unavailable") || out.Len() > 0 || errOut.Len() > 0 {
				t.Errorf("dialed or printed: %v %q %q", err, out.String(), errOut.String())
			}
		})
	}
	// Whitespace, a byte-order mark and full enum names are read.
	path := filepath.Join(dir, "lenient.csv")
	must(t, os.WriteFile(path, []byte("\ufeff"+head+"A1, 380.00 ,190.00,190.00, monitored \nA2,380,340,40,PERSON_CATEGORY_MINIMUM_LIVING\n"), 0o600))
	if n, err := checkPreviousPlan(path); err != nil || n != 2 {
		t.Errorf("lenient file: %d rows, %v", n, err)
	}
}
