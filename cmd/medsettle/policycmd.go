package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/medsettle/medsettle/api"
	"github.com/medsettle/medsettle/engine"
)

const policyUsage = `Usage:
  medsettle policy validate FILE.json...

Checks policy files (protojson of medsettle.v1.Policy, as in examples/policies)
offline, as PolicyService.PutPolicy does, and lists every problem with its path
(a JSON syntax error with its line:column). It does not check the overlap with
the versions a server already stores. Exit status 1 if any file has a problem.
`

// runPolicy is `medsettle policy validate FILE...`.
func runPolicy(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "help" || args[0] == "-h" || args[0] == "--help") {
		fmt.Fprint(stdout, policyUsage)
		return nil
	}
	if len(args) == 0 || args[0] != "validate" {
		fmt.Fprint(stderr, policyUsage)
		if len(args) == 0 {
			return errors.New("policy needs a step: validate")
		}
		return fmt.Errorf("policy: unknown step %q; the step is validate", args[0])
	}
	files := args[1:]
	for _, f := range files {
		if f == "-h" || f == "--help" {
			fmt.Fprint(stdout, policyUsage)
			return nil
		}
	}
	if len(files) == 0 {
		fmt.Fprint(stderr, policyUsage)
		return errors.New("policy validate needs at least one policy file")
	}
	bad := 0
	for _, path := range files {
		problems := validatePolicyFile(path)
		if len(problems) == 0 {
			fmt.Fprintf(stdout, "%s: ok\n", path)
			continue
		}
		bad++
		fmt.Fprintf(stdout, "%s: %d problem(s)\n", path, len(problems))
		for _, p := range problems {
			fmt.Fprintf(stdout, "  %s\n", p)
		}
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d policy files have problems: fix what is listed above and run policy validate again", bad, len(files))
	}
	return nil
}

// validatePolicyFile lists the problems of one policy file: a file that
// cannot be read, JSON that does not parse (with line:column), a document
// that is not a medsettle.v1.Policy, or every violation PutPolicy would
// report, as "path: description".
func validatePolicyFile(path string) []string {
	raw, err := os.ReadFile(path)
	if err != nil {
		return []string{fmt.Sprintf("cannot read the file: %v", err)}
	}
	if msg := jsonSyntaxProblem(raw); msg != "" {
		return []string{msg}
	}
	_, err = api.ParsePolicyJSON(raw)
	if err == nil {
		return nil
	}
	var ve *engine.ValidationError
	if errors.As(err, &ve) {
		out := make([]string, len(ve.Violations))
		for i, v := range ve.Violations {
			out[i] = v.Field + ": " + v.Description
		}
		return out
	}
	return []string{err.Error()}
}

// jsonSyntaxProblem says where raw stops being JSON ("line L:C: …"), or
// returns "" when it is one well-formed JSON value.
func jsonSyntaxProblem(raw []byte) string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	var v json.RawMessage
	err := dec.Decode(&v)
	if err == nil {
		if _, err := dec.Token(); err != io.EOF {
			l, c := lineCol(raw, int(dec.InputOffset()))
			return fmt.Sprintf("line %d:%d: JSON syntax error: text after the policy object", l, c)
		}
		return ""
	}
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		l, c := lineCol(raw, int(se.Offset))
		return fmt.Sprintf("line %d:%d: JSON syntax error: %s", l, c, se.Error())
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		l, c := lineCol(raw, len(raw))
		if len(bytes.TrimSpace(raw)) == 0 {
			return "line 1:1: the file is empty; it must hold a policy object"
		}
		return fmt.Sprintf("line %d:%d: the file ends in the middle of the JSON (truncated?)", l, c)
	}
	return "JSON: " + err.Error()
}

// lineCol is the 1-based line and column (in bytes) of offset in raw.
func lineCol(raw []byte, offset int) (line, col int) {
	offset = min(max(offset, 0), len(raw))
	before := raw[:offset]
	line = bytes.Count(before, []byte("\n")) + 1
	col = offset - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}
