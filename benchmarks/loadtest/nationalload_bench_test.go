package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The gateway's answers to a claim, as medsettle serve --demo wrote them
// (2026-11-27, the claim of claimItems at QZ-H3): what the client reads
// whole and checks.
const (
	fakeAnswer2401 = `{"infcode":"0","inf_refmsgid":"350500202611272347163388882009","refmsg_time":"20261127234716462","respond_time":"20261127234716462","err_msg":"","warn_msg":"","output":{"result":{"mdtrt_id":"MD01a21db0816ed175f0d32c65d967"}}}`
	fakeAnswer2301 = `{"infcode":"0","inf_refmsgid":"350500202611272347203388882010","refmsg_time":"20261127234720251","respond_time":"20261127234720251","err_msg":"","warn_msg":"","output":{"result":[{"feedetl_sn":"1","det_item_fee_sumamt":960.00,"cnt":12,"pric":80,"pric_uplmt_amt":0,"selfpay_prop":0,"fulamt_ownpay_amt":0.00,"overlmt_amt":0.00,"preselfpay_amt":0.00,"inscp_scp_amt":960.00,"chrgitm_lv":"01","med_chrgitm_type":""},{"feedetl_sn":"2","det_item_fee_sumamt":18500.00,"cnt":1,"pric":18500,"pric_uplmt_amt":0,"selfpay_prop":0,"fulamt_ownpay_amt":0.00,"overlmt_amt":0.00,"preselfpay_amt":0.00,"inscp_scp_amt":18500.00,"chrgitm_lv":"01","med_chrgitm_type":""},{"feedetl_sn":"3","det_item_fee_sumamt":600.00,"cnt":40,"pric":15,"pric_uplmt_amt":12.5,"selfpay_prop":0,"fulamt_ownpay_amt":0.00,"overlmt_amt":100.00,"preselfpay_amt":0.00,"inscp_scp_amt":500.00,"chrgitm_lv":"01","med_chrgitm_type":""},{"feedetl_sn":"4","det_item_fee_sumamt":250.00,"cnt":33.3333,"pric":7.5,"pric_uplmt_amt":0,"selfpay_prop":0.1,"fulamt_ownpay_amt":0.00,"overlmt_amt":0.00,"preselfpay_amt":25.00,"inscp_scp_amt":225.00,"chrgitm_lv":"02","med_chrgitm_type":""},{"feedetl_sn":"5","det_item_fee_sumamt":9800.00,"cnt":1,"pric":9800,"pric_uplmt_amt":8000,"selfpay_prop":0.2,"fulamt_ownpay_amt":0.00,"overlmt_amt":1800.00,"preselfpay_amt":1600.00,"inscp_scp_amt":6400.00,"chrgitm_lv":"02","med_chrgitm_type":""},{"feedetl_sn":"6","det_item_fee_sumamt":1000.00,"cnt":5,"pric":200,"pric_uplmt_amt":0,"selfpay_prop":1,"fulamt_ownpay_amt":1000.00,"overlmt_amt":0.00,"preselfpay_amt":0.00,"inscp_scp_amt":0.00,"chrgitm_lv":"03","med_chrgitm_type":""}]}}
`
	fakeAnswer2304 = `{"infcode":"0","inf_refmsgid":"350500202611272347203388882011","refmsg_time":"20261127234720286","respond_time":"20261127234720287","err_msg":"","warn_msg":"","output":{"setlinfo":{"setl_id":"ST01a21db0905f7483836af9819560e4ac","mdtrt_id":"MD01a21db0816ed175f0d32c65d967","psn_no":"B0","psn_name":"B0","psn_cert_type":"01","certno":"B0","gend":"","naty":"","brdy":"","age":0,"insutype":"310","psn_type":"","cvlserv_flag":"0","setl_time":"2026-11-27 23:47:20","mdtrt_cert_type":"02","med_type":"21","medfee_sumamt":31110.00,"fulamt_ownpay_amt":1000.00,"overlmt_selfpay":1900.00,"preselfpay_amt":1625.00,"inscp_scp_amt":26585.00,"act_pay_dedc":700.00,"hifp_pay":20000.00,"pool_prop_selfpay":0.95,"cvlserv_pay":0.00,"hifes_pay":0.00,"hifmi_pay":0.00,"hifob_pay":0.00,"maf_pay":0.00,"oth_pay":0.00,"fund_pay_sumamt":20000.00,"psn_part_amt":11110.00,"acct_pay":0.00,"psn_cash_pay":11110.00,"hosp_part_amt":0.00,"balc":0.00,"acct_mulaid_pay":0.00,"medins_setl_id":"H35050000003202611271547202122","clr_optins":"350500","clr_way":"01","clr_type":"21"},"setldetail":[{"fund_pay_type":"310100","fund_pay_type_name":"职工基本医疗保险统筹基金","inscp_scp_amt":26585.00,"crt_payb_lmt_amt":20000.00,"fund_payamt":20000.00,"setl_proc_info":"本次计入26585.00元；起付线700.00元（本次起付线以下700.00元由个人支付）；700.00–5000.00元部分4300.00元按87%支付3741.00元；5000.00–10000.00元部分5000.00元按90%支付4500.00元；10000.00元以上部分16585.00元按95%支付11759.00元；年度最高支付限额20000.00元，本次前剩余20000.00元，超出限额3996.75元不予支付；合计支付20000.00元。"}]}}
`
)

// fakeAnswers are the whole HTTP/1.1 answers to 2401, 2301 and 2304, with
// the headers the gateway writes.
var fakeAnswers = map[string][]byte{
	"2401": fakeHTTPAnswer(fakeAnswer2401),
	"2301": fakeHTTPAnswer(fakeAnswer2301),
	"2304": fakeHTTPAnswer(fakeAnswer2304),
}

func fakeHTTPAnswer(body string) []byte {
	return []byte("HTTP/1.1 200 OK\r\nCache-Control: no-store\r\nContent-Length: " + strconv.Itoa(len(body)) +
		"\r\nContent-Type: application/json;charset=utf-8\r\nX-Content-Type-Options: nosniff\r\nDate: Fri, 27 Nov 2026 15:47:20 GMT\r\n\r\n" + body)
}

// fakeGateway answers the whole requests at the start of in (as the
// client writes them: Content-Length, the envelope's infno first) by
// appending their canned answers to out; it returns what is left of in
// (a request not yet whole).
func fakeGateway(in, out []byte) (rest, answers []byte, err error) {
	for {
		end := bytes.Index(in, []byte("\r\n\r\n"))
		if end < 0 {
			return in, out, nil
		}
		head := in[:end]
		i := bytes.Index(head, []byte("\r\nContent-Length: "))
		if i < 0 {
			return nil, nil, errors.New("fake gateway: no Content-Length")
		}
		v := head[i+len("\r\nContent-Length: "):]
		if j := bytes.IndexByte(v, '\r'); j >= 0 {
			v = v[:j]
		}
		n, err := strconv.Atoi(string(v))
		if err != nil {
			return nil, nil, err
		}
		body := in[end+4:]
		if len(body) < n {
			return in, out, nil
		}
		const pre = `{"infno":"`
		if n < len(pre)+4 || string(body[:len(pre)]) != pre {
			return nil, nil, errors.New("fake gateway: no infno")
		}
		a, ok := fakeAnswers[string(body[len(pre):len(pre)+4])]
		if !ok {
			return nil, nil, errors.New("fake gateway: infno " + string(body[len(pre):len(pre)+4]))
		}
		out = append(out, a...)
		in = body[n:]
	}
}

// memConn is a connection to fakeGateway in memory: a write answers the
// whole requests in it at once, a read takes what is answered.
type memConn struct {
	net.Conn // nil: only the methods below are called
	in, out  []byte
	r        int
}

func (c *memConn) Write(p []byte) (int, error) {
	c.in = append(c.in, p...)
	if c.r == len(c.out) {
		c.out, c.r = c.out[:0], 0
	}
	rest, out, err := fakeGateway(c.in, c.out)
	if err != nil {
		return 0, err
	}
	c.out = out
	c.in = append(c.in[:0], rest...)
	return len(p), nil
}

func (c *memConn) Read(p []byte) (int, error) {
	if c.r == len(c.out) {
		return 0, io.EOF
	}
	n := copy(p, c.out[c.r:])
	c.r += n
	return n, nil
}

func (c *memConn) Close() error                     { return nil }
func (c *memConn) SetDeadline(time.Time) error      { return nil }
func (c *memConn) SetReadDeadline(time.Time) error  { return nil }
func (c *memConn) SetWriteDeadline(time.Time) error { return nil }

// fakeGatewayEnv makes the test binary serve fakeGateway on loopback
// (TestFakeGatewayProcess), so that a benchmark's process CPU is the
// client's alone.
const fakeGatewayEnv = "LOADTEST_FAKE_GATEWAY"

// TestFakeGatewayProcess is the fake gateway's process when
// LOADTEST_FAKE_GATEWAY is set (it then prints its address and serves
// until its standard input closes); otherwise it is skipped.
func TestFakeGatewayProcess(t *testing.T) {
	if os.Getenv(fakeGatewayEnv) == "" {
		t.Skip("the fake gateway's process, started by BenchmarkHISClaim")
	}
	// The variable's value is the CPU the fake spends on each request
	// (a duration, or none), as the gateway's server would.
	work, _ := time.ParseDuration(os.Getenv(fakeGatewayEnv))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = os.Stdout.WriteString(ln.Addr().String() + "\n")
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			defer c.Close()
			buf := make([]byte, 64<<10)
			var in, out []byte
			for {
				n, err := c.Read(buf)
				if err != nil {
					return
				}
				in = append(in, buf[:n]...)
				var rest []byte
				if rest, out, err = fakeGateway(in, out[:0]); err != nil {
					return
				}
				in = append(in[:0], rest...)
				if len(out) > 0 && work > 0 {
					spinCPU(work)
				}
				if len(out) > 0 {
					if _, err := c.Write(out); err != nil {
						return
					}
				}
			}
		}()
	}
}

// startFakeGateway starts the fake gateway's process and returns its
// address; work is the CPU it spends on each request (0: none).
func startFakeGateway(b *testing.B, work time.Duration) string {
	cmd := exec.Command(os.Args[0], "-test.run=^TestFakeGatewayProcess$", "-test.count=1")
	spend := "none"
	if work > 0 {
		spend = work.String()
	}
	cmd.Env = append(os.Environ(), fakeGatewayEnv+"="+spend)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatal(err)
	}
	return strings.TrimSpace(line)
}

// ownCPU is this process's CPU time (user and system) so far.
func ownCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkHISClaim is the gateway row's client per claim (2301 and
// 2304, built, signed, sent, their answers read and checked) against
// canned answers of the gateway: mem over a connection in memory (the
// client's own work without system calls); loopback over TCP to a fake
// gateway in another process, one worker; loopback64 as the load test
// runs it, 64 workers, the fake spending 65 µs of CPU on each request
// (a claim's 130 µs, about the gateway's), so that client and fake share
// the machine and the client waits as it does in the load test. cpu-ns/op
// is this process's user and system time per claim: the client's alone.
func BenchmarkHISClaim(b *testing.B) {
	v := hisVisit{id: "MD01a21db0816ed175f0d32c65d967", person: "LT12345"}
	today := time.Now().In(cstZone).Format(time.DateOnly)
	b.Run("mem", func(b *testing.B) {
		h := newHISLoad("127.0.0.1:1", 1)
		var s scratch
		s.attach(&memConn{})
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if err := h.claim(ctx, v, today, &s); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("loopback", func(b *testing.B) {
		h := newHISLoad(startFakeGateway(b, 0), 1)
		var s scratch
		defer s.closeConn()
		ctx := context.Background()
		if err := h.claim(ctx, v, today, &s); err != nil { // the connection
			b.Fatal(err)
		}
		b.ReportAllocs()
		cpu := ownCPU()
		n := 0
		for b.Loop() {
			if err := h.claim(ctx, v, today, &s); err != nil {
				b.Fatal(err)
			}
			n++
		}
		b.ReportMetric(float64(ownCPU()-cpu)/float64(n), "cpu-ns/op")
	})
	b.Run("loopback64", func(b *testing.B) {
		h := newHISLoad(startFakeGateway(b, 65*time.Microsecond), 64)
		ctx := context.Background()
		b.ReportAllocs()
		b.SetParallelism(64 / runtime.GOMAXPROCS(0))
		var n atomic.Int64
		cpu := ownCPU()
		b.RunParallel(func(pb *testing.PB) {
			var s scratch
			defer s.closeConn()
			for pb.Next() {
				if err := h.claim(ctx, v, today, &s); err != nil {
					b.Error(err)
					return
				}
				n.Add(1)
			}
		})
		b.ReportMetric(float64(ownCPU()-cpu)/float64(n.Load()), "cpu-ns/op")
	})
}
