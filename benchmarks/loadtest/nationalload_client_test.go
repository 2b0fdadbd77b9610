package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// freshClaimInputs are the 2301 and 2304 inputs of v built from scratch
// with fmt, as the client built them before it patched parts built once.
func freshClaimInputs(v hisVisit, today string) (string, string) {
	var lines []string
	for i, it := range claimItems {
		lines = append(lines, fmt.Sprintf(`{"feedetl_sn":"%d","mdtrt_id":%q,"psn_no":%q,"med_type":"21","fee_ocur_time":"%s 09:00:00","med_list_codg":%q,"medins_list_codg":%q,`+
			`"det_item_fee_sumamt":%s,"cnt":%s,"pric":%s,"hosp_appr_flag":"1"}`,
			i+1, v.id, v.person, today, it["code"], it["name"], it["amount"], it["quantity"], it["unitPrice"]))
	}
	upload := `{"feedetail":[` + strings.Join(lines, ",") + `]}`
	settle := fmt.Sprintf(`{"data":{"psn_no":%q,"mdtrt_cert_type":"02","mdtrt_cert_no":%q,"medfee_sumamt":%s,"psn_setlway":"01","mdtrt_id":%q,`+
		`"insutype":"310","acct_used_flag":"0","mid_setl_flag":"0","invono":""}}`, v.person, v.person, gatewayClaimTotal, v.id)
	return upload, settle
}

// TestClaimBodiesPatched: the 2301 and 2304 bodies the client patches
// from parts built once are byte for byte those built afresh, for
// claim after claim of different visits and days on one worker's
// scratch (a quote in an id escaped), each a valid envelope of its input
// at the current second.
func TestClaimBodiesPatched(t *testing.T) {
	srv, reqs := recordingGateway(t)
	h := newHISLoad(srv, 1)
	var s scratch
	defer s.closeConn()
	visits := []hisVisit{{"MD01a21db0816ed175f0d32c65d967", "LT1"}, {"MD-2", "LT22"}, {`MD"3`, `LT\3`}, {"MD-4", "LT1234567"}}
	for i, v := range visits {
		today := []string{"2026-11-27", "2026-11-28"}[i%2]
		before := time.Now()
		if err := h.claim(context.Background(), v, today, &s); err != nil {
			t.Fatal(err)
		}
		after := time.Now()
		upload, settle := freshClaimInputs(v, today)
		for j, want := range []struct{ infno, input string }{{"2301", upload}, {"2304", settle}} {
			raw := <-reqs
			var env struct {
				Infno, Msgid string
				InfTime      string `json:"inf_time"`
				Input        json.RawMessage
			}
			if err := json.Unmarshal(raw, &env); err != nil {
				t.Fatalf("claim %d request %d: %v: %s", i, j, err, raw)
			}
			if env.Infno != want.infno || string(env.Input) != want.input {
				t.Fatalf("claim %d %s input\n%s\nwant\n%s", i, env.Infno, env.Input, want.input)
			}
			if env.InfTime != before.In(cstZone).Format(time.DateTime) && env.InfTime != after.In(cstZone).Format(time.DateTime) {
				t.Fatalf("inf_time %s, not between %s and %s", env.InfTime, before, after)
			}
			if stamp := env.Msgid[len(gatewayFixmedins) : len(gatewayFixmedins)+14]; stamp != strings.NewReplacer("-", "", " ", "", ":", "").Replace(env.InfTime) {
				t.Fatalf("msgid %s at inf_time %s", env.Msgid, env.InfTime)
			}
		}
	}
}

// recordingGateway is a gateway that answers every request infcode 0 and
// sends each body on the channel.
func recordingGateway(t *testing.T) (string, <-chan []byte) {
	reqs := make(chan []byte, 64)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		reqs <- b
		_, _ = io.WriteString(w, `{"infcode":"0","err_msg":"","output":{}}`)
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String(), reqs
}

// TestTickPerSecond: the clock strings are formatted once a second, in
// China Standard Time, and equal time's own formatting across seconds,
// days and years.
func TestTickPerSecond(t *testing.T) {
	var s scratch
	for _, now := range []time.Time{
		time.Date(2026, 11, 27, 15, 59, 59, 0, time.UTC),
		time.Date(2026, 11, 27, 15, 59, 59, 999_999_999, time.UTC),
		time.Date(2026, 11, 27, 16, 0, 0, 0, time.UTC), // 2026-11-28 00:00:00 CST
		time.Date(2026, 12, 31, 15, 59, 59, 500, time.UTC),
		time.Date(2026, 12, 31, 16, 0, 0, 1, time.UTC), // 2027-01-01
	} {
		s.tick(now)
		cst := now.In(cstZone)
		if string(s.stamp[:]) != cst.Format("20060102150405") || string(s.dateTime[:]) != cst.Format(time.DateTime) {
			t.Fatalf("%s: %s, %s", now, s.stamp[:], s.dateTime[:])
		}
	}
	if n := testing.AllocsPerRun(100, func() { s.tick(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)) }); n != 0 {
		t.Fatalf("tick allocates %v times", n)
	}
}

// TestAppendQuoted: ids are quoted as strconv.AppendQuote quotes them.
func TestAppendQuoted(t *testing.T) {
	for _, v := range []string{"", "LT1", "MD01a21db0816ed175f0d32c65d967", `a"b`, `a\b`, "a\nb", "病人", "\x7f", "a b"} {
		if got, want := string(appendQuoted([]byte("x"), v)), "x"+strconv.Quote(v); got != want {
			t.Fatalf("%q: %s, want %s", v, got, want)
		}
	}
}

// TestHISLoadAnswerInPieces: an answer that arrives in pieces (its head
// split, its body longer than the read buffer, two answers in one
// segment) is read whole, and an answer without Content-Length to the
// end of the connection; on Linux (without the race detector) through
// raw reads and writes.
func TestHISLoadAnswerInPieces(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	long := `{"infcode":"0","err_msg":"","output":"` + strings.Repeat("x", 100<<10) + `"}`
	answer := func(body string) string {
		return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\ncontent-length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
	}
	go func() {
		for k := 0; ; k++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			rd := bufio.NewReader(c)
			var reqs int
			for {
				r, err := http.ReadRequest(rd)
				if err != nil {
					break
				}
				_, _ = io.Copy(io.Discard, r.Body)
				reqs++
				switch {
				case k == 0 && reqs == 1: // the head in pieces, then a long body in pieces
					a := answer(long)
					for _, piece := range []string{a[:5], a[5:20], a[20:40], a[40:4000], a[4000:70000], a[70000:]} {
						_, _ = io.WriteString(c, piece)
						time.Sleep(5 * time.Millisecond)
					}
				case k == 0 && reqs == 2: // two answers at once: the second is the third request's
					a := answer(`{"infcode":"0","n":2}`)
					_, _ = io.WriteString(c, a+a)
				case k == 0 && reqs == 3:
				case k == 0 && reqs == 4: // to the end of the connection
					_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\n\r\n"+`{"infcode":"0","n":4}`)
					_ = c.Close()
				default:
					_, _ = io.WriteString(c, answer(`{"infcode":"-1","err_msg":"n5"}`))
				}
			}
			_ = c.Close()
		}
	}()
	h := newHISLoad(ln.Addr().String(), 1)
	var s scratch
	defer s.closeConn()
	ctx := context.Background()
	if err := h.post(ctx, []byte(`{}`), &s); err != nil || string(s.answer) != long {
		t.Fatalf("the long answer: %v, %d bytes", err, len(s.answer))
	}
	if runtime.GOOS == "linux" && !raceEnabled && s.rc == nil {
		t.Fatal("no raw reads and writes on Linux")
	}
	for i := 2; i <= 3; i++ {
		if err := h.post(ctx, []byte(`{}`), &s); err != nil || string(s.answer) != `{"infcode":"0","n":2}` {
			t.Fatalf("answer %d: %v %s", i, err, s.answer)
		}
	}
	if err := h.post(ctx, []byte(`{}`), &s); err != nil || string(s.answer) != `{"infcode":"0","n":4}` || s.conn != nil {
		t.Fatalf("the answer to the end of the connection: %v %s, connection %v", err, s.answer, s.conn)
	}
	if err := h.post(ctx, []byte(`{}`), &s); err == nil || err.Error() != "infcode -1: n5" {
		t.Fatalf("a new connection's answer: %v", err)
	}
}

// TestHISClaimAllocs: a claim allocates nothing once its worker's
// buffers have grown.
func TestHISClaimAllocs(t *testing.T) {
	h := newHISLoad("127.0.0.1:1", 1)
	var s scratch
	s.attach(&memConn{})
	v := hisVisit{id: "MD01a21db0816ed175f0d32c65d967", person: "LT12345"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if n := testing.AllocsPerRun(100, func() {
		if err := h.claim(ctx, v, "2026-11-27", &s); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("a claim allocates %v times", n)
	}
}
