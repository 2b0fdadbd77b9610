package national

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/medsettle/medsettle/api"
	"github.com/medsettle/medsettle/store"
)

// Default limits of a Gateway (options change them).
const (
	// DefaultMaxBodyBytes is the largest request body read: an upload of
	// engine.MaxItems fee-detail lines with every optional field fits in
	// half of it. A larger body is answered HTTP 413.
	DefaultMaxBodyBytes = 4 << 20
	// DefaultReplayCapacity is how many nonces (x-tif) or (key, timestamp,
	// msgid) triples (csb) the replay cache holds: about 1,700 requests a
	// second sustained over its ten minutes, in some 60 MB. When it is
	// full, new requests are refused (HTTP 503) rather than a nonce
	// forgotten early.
	DefaultReplayCapacity = 1 << 20
	// MinReplayCapacity and MaxReplayCapacity bound Config.ReplayCapacity:
	// the largest, 64 Mi values, sustains about 110,000 requests a second
	// in some 4 GB.
	MinReplayCapacity = 1000
	MaxReplayCapacity = 1 << 26
	// DefaultMaxInFlight is how many requests the gateway answers at once;
	// more wait up to DefaultQueueWait, then are answered "系统繁忙" (HTTP
	// 503). Each holds at most its body (MaxBodyBytes).
	DefaultMaxInFlight = 256
	// DefaultQueueWait is how long a request waits for a place.
	DefaultQueueWait = 2 * time.Second
	// DefaultRequestTimeout bounds the answering of one request (the
	// settlement service's own store deadline is shorter).
	DefaultRequestTimeout = 30 * time.Second
	// ClockWindow is how far a request's timestamp may be from the
	// server's clock, either way.
	ClockWindow = 300 * time.Second
	// ReplayWindow is how long a nonce (or a csb triple) is remembered.
	ReplayWindow = 10 * time.Minute
)

// Gateway answers national-interface requests. It is an http.Handler
// (ServeHTTP) built by New.
type Gateway struct {
	svc    Services
	store  store.Store
	visits store.VisitStore
	cfg    *Config
	now    func() time.Time
	// systemClock is whether now is time.Now, the default (no WithClock):
	// then a reading of now also serves where the system's clock is read.
	systemClock bool
	log         *slog.Logger

	// byKey finds a credential by its key (x-tif-paasid, _api_access_key).
	byKey    map[string]*Credential
	replay   *replayCache
	slots    chan struct{}
	maxBody  int64
	wait     time.Duration
	timeout  time.Duration
	refmsgid *refmsgidSource
	// fullWarned is when the log last said the replay cache was full
	// (unix nanoseconds): at most once a minute.
	fullWarned atomic.Int64
	// visitAttrs keeps what never changes of the visits the gateway
	// opened or read (visit_cache.go).
	visitAttrs *visitCache
	// principals are the credentials' principals as api.WithPrincipal
	// carries them (on context.Background), made once (principalContext).
	principals map[*Credential]context.Context
}

// Option changes a Gateway New builds.
type Option func(*Gateway)

// WithClock sets the clock timestamps, dates and answers are read from
// (time.Now by default).
func WithClock(now func() time.Time) Option {
	return func(g *Gateway) { g.now, g.systemClock = now, false }
}

// WithLogger sets the log (slog.Default by default). Secrets, signatures
// and request bodies are never written to it.
func WithLogger(log *slog.Logger) Option { return func(g *Gateway) { g.log = log } }

// WithMaxBodyBytes sets the largest request body read (DefaultMaxBodyBytes).
func WithMaxBodyBytes(n int64) Option { return func(g *Gateway) { g.maxBody = n } }

// WithReplayCapacity sets how many nonces the replay cache holds
// (DefaultReplayCapacity).
func WithReplayCapacity(n int) Option {
	return func(g *Gateway) { g.replay = newReplayCache(n, ReplayWindow) }
}

// WithMaxInFlight sets how many requests are answered at once and how
// long one waits for a place (DefaultMaxInFlight, DefaultQueueWait).
func WithMaxInFlight(n int, wait time.Duration) Option {
	return func(g *Gateway) { g.slots, g.wait = make(chan struct{}, n), wait }
}

// WithRequestTimeout bounds the answering of one request
// (DefaultRequestTimeout).
func WithRequestTimeout(d time.Duration) Option { return func(g *Gateway) { g.timeout = d } }

// New builds a gateway serving cfg's institutions with svc (api.Local),
// recording its requests in st's audit log and keeping visits in visits.
// It refuses a config that Check refuses.
func New(cfg Config, svc Services, st store.Store, visits store.VisitStore, opts ...Option) (*Gateway, error) {
	if err := cfg.Check(); err != nil {
		return nil, fmt.Errorf("national gateway config: %w", err)
	}
	if svc == nil || st == nil || visits == nil {
		return nil, errors.New("national gateway: services, store and visit store are all required")
	}
	c := cfg
	c.Institutions = append([]Credential(nil), cfg.Institutions...)
	g := &Gateway{svc: svc, store: st, visits: visits, cfg: &c, now: time.Now, systemClock: true, log: slog.Default(),
		byKey: make(map[string]*Credential, len(c.Institutions)), maxBody: DefaultMaxBodyBytes,
		wait: DefaultQueueWait, timeout: DefaultRequestTimeout, refmsgid: newRefmsgidSource()}
	g.principals = make(map[*Credential]context.Context, len(c.Institutions))
	for i := range c.Institutions {
		cred := &c.Institutions[i]
		g.byKey[cred.Key] = cred
		g.principals[cred] = api.WithPrincipal(context.Background(), institutionPrincipal(cred))
	}
	for _, o := range opts {
		o(g)
	}
	if g.replay == nil {
		capacity := DefaultReplayCapacity
		if c.ReplayCapacity > 0 {
			capacity = c.ReplayCapacity
		}
		g.replay = newReplayCache(capacity, ReplayWindow)
	}
	if g.slots == nil {
		g.slots = make(chan struct{}, DefaultMaxInFlight)
	}
	if g.visitAttrs == nil {
		g.visitAttrs = newVisitCache(DefaultVisitCacheSize)
	}
	if g.maxBody <= 0 || g.timeout <= 0 || cap(g.slots) <= 0 || g.wait < 0 || g.replay.capacity <= 0 || g.replay.span <= 0 || g.now == nil || g.log == nil {
		return nil, errors.New("national gateway: limits must be positive, and the clock and log set")
	}
	return g, nil
}
