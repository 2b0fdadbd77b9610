package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// examplesDir holds docs/NATIONAL.md's request/response pairs, replayed
// in name order by TestNationalExamples.
const examplesDir = "../../docs/national-examples"

// examplesStart is the fixed clock of the examples: 2026-11-27 09:00:00
// in Asia/Shanghai. Each example is sent at the time of its inf_time.
var examplesStart = time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC)

// nationalExample is one file of docs/national-examples.
type nationalExample struct {
	Title    string          `json:"title"`
	Request  json.RawMessage `json:"request"`
	Response json.RawMessage `json:"response"`
}

// generatedKeys are the answers' fields that the server generates
// afresh: an example names each by a placeholder, which later requests
// use, and the test maps it to the value of this run.
var generatedKeys = map[string]bool{"mdtrt_id": true, "setl_id": true, "sign_no": true}

// refmsgid is inf_refmsgid: area (6) + yyyyMMddHHmmss + a 10-digit serial,
// the serial the only part that varies.
var refmsgid = regexp.MustCompile(`^\d{30}$`)

// idMap maps the examples' placeholders to this run's generated values.
type idMap struct {
	toRun map[string]string // placeholder → value
	toDoc map[string]string // value → placeholder
}

// normalise walks an actual answer alongside the example's: a generated
// field takes the example's placeholder (mapping it to the run's value
// the first time, and requiring the same value every later time), and
// inf_refmsgid keeps only its area and time. Every other field is
// compared as it is.
func (m *idMap) normalise(t *testing.T, where string, got, want any) any {
	switch g := got.(type) {
	case map[string]any:
		w, _ := want.(map[string]any)
		for k, v := range g {
			wv := w[k]
			switch {
			case generatedKeys[k]:
				gs, _ := v.(string)
				ws, _ := wv.(string)
				if gs == "" || ws == "" {
					continue
				}
				if p, ok := m.toDoc[gs]; ok {
					g[k] = p
					continue
				}
				if prev, ok := m.toRun[ws]; ok && prev != gs {
					t.Errorf("%s: %s is %s, but %s stood for %s before", where, k, gs, ws, prev)
					continue
				}
				m.toRun[ws], m.toDoc[gs] = gs, ws
				g[k] = ws
			case k == "inf_refmsgid":
				gs, _ := v.(string)
				ws, _ := wv.(string)
				if ws == "" && refmsgid.MatchString(gs) { // a new example (UPDATE_NATIONAL_EXAMPLES)
					ws = gs[:20] + "0000000001"
				}
				if !refmsgid.MatchString(gs) || len(ws) != 30 || gs[:20] != ws[:20] {
					t.Errorf("%s: inf_refmsgid %q, want %s + 10 digits", where, gs, ws[:min(20, len(ws))])
					continue
				}
				g[k] = ws
			default:
				g[k] = m.normalise(t, where+"."+k, v, wv)
			}
		}
		return g
	case string:
		for run, doc := range m.toDoc { // an id quoted in a message
			g = strings.ReplaceAll(g, run, doc)
		}
		return g
	case []any:
		w, _ := want.([]any)
		for i := range g {
			var wi any
			if i < len(w) {
				wi = w[i]
			}
			g[i] = m.normalise(t, fmt.Sprintf("%s[%d]", where, i), g[i], wi)
		}
		return g
	}
	return got
}

// request is an example's request with this run's generated values in
// place of the placeholders.
func (m *idMap) request(raw json.RawMessage) []byte {
	s := string(raw)
	for doc, run := range m.toRun {
		s = strings.ReplaceAll(s, doc, run)
	}
	return []byte(s)
}

// decodeJSON decodes raw keeping numbers as written.
func decodeJSON(t *testing.T, raw []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return v
}

// TestNationalExamples replays docs/national-examples against the demo
// (examples/national-config.json) on a fixed clock and compares each
// answer with the example's, exactly but for the generated ids and
// inf_refmsgid's serial. With UPDATE_NATIONAL_EXAMPLES=1 it writes the
// answers into the files instead.
func TestNationalExamples(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(examplesDir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples in %s: %v", examplesDir, err)
	}
	sort.Strings(files)
	var mu sync.Mutex
	now := examplesStart
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	s := startGatewayDemo(t, "", clock)
	update := os.Getenv("UPDATE_NATIONAL_EXAMPLES") == "1"
	ids := &idMap{toRun: map[string]string{}, toDoc: map[string]string{}}
	seen := map[string]bool{}
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var ex nationalExample
		if err := json.Unmarshal(raw, &ex); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		var env struct {
			Infno         string `json:"infno"`
			FixmedinsCode string `json:"fixmedins_code"`
			InfTime       string `json:"inf_time"`
		}
		if err := json.Unmarshal(ex.Request, &env); err != nil {
			t.Fatalf("%s: request: %v", file, err)
		}
		at, err := time.ParseInLocation(time.DateTime, env.InfTime, shanghaiTZ)
		if err != nil {
			t.Fatalf("%s: inf_time: %v", file, err)
		}
		mu.Lock()
		now = at
		mu.Unlock()
		seen[env.Infno] = true
		his := s.his(t, env.FixmedinsCode, clock)
		a := his.post(env.Infno, ids.request(ex.Request))
		name := filepath.Base(file)
		if update {
			writeExample(t, file, ex, ids, a.Raw)
			continue
		}
		got := ids.normalise(t, name, decodeJSON(t, []byte(a.Raw)), decodeJSON(t, ex.Response))
		gotJSON, _ := json.MarshalIndent(got, "", "  ")
		wantJSON, _ := json.MarshalIndent(decodeJSON(t, ex.Response), "", "  ")
		if !bytes.Equal(gotJSON, wantJSON) {
			t.Errorf("%s (%s): the server answers\n%s\nthe example says\n%s", name, ex.Title, gotJSON, wantJSON)
		}
	}
	for _, infno := range []string{"9001", "1101", "2201", "2202", "2401", "2402", "2404", "2204", "2205", "2301", "2302",
		"2206", "2207", "2303", "2304", "2208", "2305", "3201"} {
		if !seen[infno] {
			t.Errorf("no example of %s in %s", infno, examplesDir)
		}
	}
}

// writeExample rewrites an example file with the answer raw, in the
// server's order, its generated values replaced by the placeholders the
// file had (a new one keeps them) and inf_refmsgid's serial by
// 0000000001.
func writeExample(t *testing.T, file string, ex nationalExample, ids *idMap, raw string) {
	t.Helper()
	var want any = map[string]any{}
	if len(bytes.TrimSpace(ex.Response)) > 2 {
		want = decodeJSON(t, ex.Response)
	}
	got, _ := decodeJSON(t, []byte(raw)).(map[string]any)
	actualRef, _ := got["inf_refmsgid"].(string)
	ids.normalise(t, file, got, want)
	for run, doc := range ids.toDoc {
		raw = strings.ReplaceAll(raw, run, doc)
	}
	if ref, _ := got["inf_refmsgid"].(string); actualRef != "" {
		raw = strings.Replace(raw, actualRef, ref, 1)
	}
	var resp, req bytes.Buffer
	if err := json.Indent(&resp, []byte(strings.TrimSpace(raw)), "  ", "  "); err != nil {
		t.Fatal(err)
	}
	if err := json.Indent(&req, ex.Request, "  ", "  "); err != nil {
		t.Fatal(err)
	}
	title, _ := json.Marshal(ex.Title)
	doc := fmt.Sprintf("{\n  \"title\": %s,\n  \"request\": %s,\n  \"response\": %s\n}\n", title, req.Bytes(), resp.Bytes())
	if err := os.WriteFile(file, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
}
