package main

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// gatewayCallID is the gateway row's id (its profiles are
// <store>-gateway.pprof and <store>-gateway-client.pprof).
const gatewayCallID = "gateway"

// gatewayCall is the row of issue 12: the claim of the Settle row through
// the national gateway, each claim an admission opened beforehand (2401,
// not timed) and then timed: its details uploaded (2301) and settled
// (2304), the inpatient pair of 2204 + 2207, so that the claim, persons,
// institution and visit type are the gRPC Settle row's. Its ratio is to
// the Settle row of the same store and run, and its target the store's
// (targets: 0.7 on memstore, a floor on pgstore).
func gatewayCall(store string, persons int) call {
	return call{id: gatewayCallID, label: "gateway 2301+2304 (" + thousands(float64(persons)) + " persons)",
		who: people{personPrefix, persons}, gateway: true, target: targets[store+"/"+gatewayCallID]}
}

// withGateway adds the gateway row to a store's rows (memstore and
// pgstore); compare keeps only the Settle row and the gateway's (issue
// 12's comparison), Settle then without its ratio target (no empty RPC
// runs).
func withGateway(store string, calls []call, persons int, compare bool) []call {
	if store != "memstore" && store != "pgstore" {
		return calls
	}
	if !compare {
		return append(calls, gatewayCall(store, persons))
	}
	var out []call
	for _, c := range calls {
		if c.id == "settle" {
			if c.target.minRatio > 0 {
				c.target = target{}
			}
			out = append(out, c)
		}
	}
	return append(out, gatewayCall(store, persons))
}

// runGateway runs the gateway row for d: it opens enough admissions for
// the run first (for 1.3 times the row's best rate so far, or Settle's
// before it has run), then 64 (-concurrency) workers each upload and settle one claim
// after another until d has passed; a claim still in flight then is left
// out, as ghz's --duration-stop ignore does. Should the admissions run
// out, a worker opens one itself, timed with its claim (counted and
// said). The report is ghz's shape: claims, their latencies (2301 + 2304),
// errors, and the server's and this process's CPU over the run.
func runGateway(ctx context.Context, srv *server, c call, o options, d time.Duration, phase string, p *progress, label string, after time.Duration, started func()) (report, error) {
	if srv.rates == nil {
		srv.rates = rates{}
	}
	// The row's own best rate once it has run (opening far more than
	// needed would cost time and fill the gateway's replay cache of
	// 1,048,576 nonces a 10 minutes), else Settle's.
	best := srv.rates[c.id]
	if best == 0 {
		best = srv.rates["settle"]
	}
	if best == 0 {
		best = 5000 // no Settle row ran before: a rate no store has reached
	}
	n := requestsFor(1.3*best, d, o.concurrency)
	prefix := c.requestPrefix(runID, phase)
	visits, err := srv.his.openVisits(ctx, c.who, prefix, n, o.concurrency)
	if err != nil {
		return report{}, fmt.Errorf("%s: %w", c.label, err)
	}
	today := time.Now().In(cstZone).Format(time.DateOnly)
	var next, inline atomic.Int64
	details := make([][]callDetail, o.concurrency)
	errs := make([]map[string]int, o.concurrency)

	stop := p.countdown(label, d, after)
	// The server's CPU time and this process's (the client's) are read
	// as the claims start and again at their deadline: the window is
	// this process's own, so no sampler reading /proc every few
	// milliseconds (as for ghz) adds its CPU to the client's.
	pid := srv.cmd.Process.Pid
	serverBefore, serverOK := processCPU(pid)
	ownBefore, ownOK := processCPU(os.Getpid())
	started()
	start := time.Now()
	deadline := start.Add(d)
	type cpuAt struct {
		server, own time.Duration
		ok          bool
	}
	atDeadline := make(chan cpuAt, 1)
	timer := time.AfterFunc(d, func() {
		server, ok1 := processCPU(pid)
		own, ok2 := processCPU(os.Getpid())
		atDeadline <- cpuAt{server, own, ok1 && ok2 && serverOK && ownOK}
	})
	defer timer.Stop()
	var wg sync.WaitGroup
	for w := 0; w < o.concurrency; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var s scratch
			defer s.closeConn()
			errs[w] = map[string]int{}
			t0 := time.Now()
			for ctx.Err() == nil {
				if !t0.Before(deadline) {
					return
				}
				var v hisVisit
				i := int(next.Add(1) - 1)
				var err error
				if i < len(visits) {
					v = visits[i]
				} else {
					inline.Add(1)
					v.person = c.who.prefix + fmt.Sprint(i%c.who.n)
					v.id, err = srv.his.admit(ctx, v.person, fmt.Sprintf("%s-%d", prefix, i), today, &s)
				}
				if err == nil {
					err = srv.his.claim(ctx, v, today, &s)
				}
				t1 := time.Now()
				if t1.After(deadline) {
					return // in flight at the end: left out
				}
				d := callDetail{Timestamp: t0, Latency: t1.Sub(t0)}
				if err != nil {
					d.Error = err.Error()
					errs[w][d.Error]++
				}
				details[w] = append(details[w], d)
				t0 = t1 // the next claim starts now
			}
		}(w)
	}
	wg.Wait()
	stop()
	if ctx.Err() != nil {
		return report{}, ctx.Err()
	}
	cpu := <-atDeadline // every worker ends at or after the deadline
	rep := report{Total: d, ErrorDist: map[string]int{}, StatusCodeDist: map[string]int{}}
	for w := range details {
		rep.Details = append(rep.Details, details[w]...)
		for msg, k := range errs[w] {
			rep.ErrorDist[msg] += k
			rep.StatusCodeDist["Error"] += k
		}
	}
	rep.Count = uint64(len(rep.Details))
	rep.StatusCodeDist["OK"] = int(rep.Count) - rep.StatusCodeDist["Error"]
	rep.Rps = float64(rep.Count) / d.Seconds()
	if cpu.ok {
		rep.ServerCPU = cpu.server - serverBefore
		rep.GhzCPU = cpu.own - ownBefore
	}
	if k := inline.Load(); k > 0 {
		p.step(fmt.Sprintf("%s: the %d admissions opened beforehand ran out; %d claims opened theirs within their time", label, len(visits), k))
	}
	srv.rates.note(c.id, rep.Rps)
	return rep, nil
}
