package main

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// atomicFile is an output file written under a temporary name in the
// same directory and renamed to its name only by commit, so that a
// failed run never leaves a partial file posing as complete (and an
// existing file stays as it was until the new one is whole).
type atomicFile struct {
	path string
	tmp  *os.File
	buf  *bufio.Writer
}

// createAtomic starts path's temporary file.
func createAtomic(path string) (*atomicFile, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".partial-*")
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	return &atomicFile{path: path, tmp: tmp, buf: bufio.NewWriterSize(tmp, 256<<10)}, nil
}

// Write writes to the temporary file.
func (f *atomicFile) Write(p []byte) (int, error) { return f.buf.Write(p) }

// commit flushes the temporary file to disk and renames it to its name.
func (f *atomicFile) commit() error {
	err := f.buf.Flush()
	if err == nil {
		err = f.tmp.Chmod(0o644) // as os.Create would under the usual umask
	}
	if err == nil {
		err = f.tmp.Sync()
	}
	if cerr := f.tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.tmp.Name(), f.path)
	}
	if err != nil {
		_ = os.Remove(f.tmp.Name())
		return fmt.Errorf("write %s: %w", f.path, err)
	}
	return nil
}

// abort removes the temporary file; path is left as it was.
func (f *atomicFile) abort() {
	_ = f.tmp.Close()
	_ = os.Remove(f.tmp.Name())
}

// planColumns is the header of a plan CSV file.
var planColumns = []string{"person_id", "contribution", "subsidy", "payable", "basis_category"}

// planCSV writes plan rows as CSV.
type planCSV struct {
	w   *csv.Writer
	rec [5]string
}

// newPlanCSV writes the header to w.
func newPlanCSV(w io.Writer) (*planCSV, error) {
	p := &planCSV{w: csv.NewWriter(w)}
	if err := p.w.Write(planColumns); err != nil {
		return nil, err
	}
	return p, nil
}

// write writes one row.
func (p *planCSV) write(r planRow) error {
	p.rec = [5]string{r.personID, r.contribution.String(), r.subsidy.String(), r.payable.String(), categoryWord(r.basis)}
	return p.w.Write(p.rec[:])
}

// flush flushes the CSV writer into its file's buffer.
func (p *planCSV) flush() error {
	p.w.Flush()
	return p.w.Error()
}

// createSpool starts a temporary file for output bound for stdout, so
// that a failed run prints none of it (and memory stays constant).
func createSpool() (*atomicFile, error) {
	tmp, err := os.CreateTemp("", "medsettle-plan-diff-*.csv")
	if err != nil {
		return nil, fmt.Errorf("create a temporary file for the diff: %w", err)
	}
	return &atomicFile{tmp: tmp, buf: bufio.NewWriterSize(tmp, 256<<10)}, nil
}

// copyTo copies the spooled output to w and removes the file.
func (f *atomicFile) copyTo(w io.Writer) error {
	defer f.abort()
	if err := f.buf.Flush(); err != nil {
		return fmt.Errorf("the diff's temporary file: %w", err)
	}
	if _, err := f.tmp.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("the diff's temporary file: %w", err)
	}
	if _, err := io.Copy(w, f.tmp); err != nil {
		return fmt.Errorf("write the diff: %w", err)
	}
	return nil
}
