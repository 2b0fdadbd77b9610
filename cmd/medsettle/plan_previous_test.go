package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzPreviousPlan: any file is either refused or read into rows that
// medsettle plan writes back as a file read into the same rows; nothing
// panics.
func FuzzPreviousPlan(f *testing.F) {
	f.Add([]byte(previousPlanCSV))
	f.Add([]byte(fakePlanCSV))
	f.Add([]byte("\ufeffperson_id,contribution,subsidy,payable,basis_category\r\n\"A,1\",1.5,0.5,1,monitored\r\n"))
	f.Add([]byte("person_id,contribution,subsidy,payable,basis_category\nA1,380,x,1.234,\n,,,,\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "prev.csv")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		n, err := checkPreviousPlan(path)
		if err != nil {
			return
		}
		rows := readAllRows(t, path)
		if int64(len(rows)) != n {
			t.Fatalf("checked %d rows, read %d", n, len(rows))
		}
		var buf bytes.Buffer
		w, err := newPlanCSV(&buf)
		must(t, err)
		for _, r := range rows {
			must(t, w.write(r))
		}
		must(t, w.flush())
		again := filepath.Join(dir, "again.csv")
		must(t, os.WriteFile(again, buf.Bytes(), 0o600))
		if m, err := checkPreviousPlan(again); err != nil || m != n {
			t.Fatalf("the rewritten file: %d rows, %v\n%s", m, err, buf.String())
		}
		for i, r := range readAllRows(t, again) {
			if r != rows[i] {
				t.Fatalf("row %d: %+v, then %+v", i, rows[i], r)
			}
		}
	})
}

// readAllRows reads a checked previous plan's rows.
func readAllRows(t *testing.T, path string) []planRow {
	t.Helper()
	p, err := openPreviousPlan(path)
	must(t, err)
	defer p.close()
	var rows []planRow
	for {
		r, ok, err := p.next()
		must(t, err)
		if !ok {
			return rows
		}
		rows = append(rows, r)
	}
}
