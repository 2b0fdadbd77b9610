package api

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// The guard is what stands between a call's headers and its handler:
//
//   - tapAuth (tap.go) refuses a call without valid credentials from its
//     headers, before a byte of its message is read (or, for a call with
//     a deadline, marks it for the guard to refuse first thing);
//   - each medsettle service admits MaxInFlight calls at once (waiting
//     QueueWait for a place, then UNAVAILABLE), and ImportPersons and
//     EnrollMembers MaxImports between them (then RESOURCE_EXHAUSTED); a
//     call's message is read only once it is admitted;
//   - the message is read as raw bytes (rawFrame, through guardCodec) and
//     checked against its type's limit (checkMessage) before it is
//     decoded, so no request decodes into more than its limit allows;
//   - every message not paced by the client (a unary request, the request
//     of a server stream, any message of a public service) is received
//     MaxReads at a time (public services: MaxPublicReads each, so that
//     neither side can crowd out the other) and must arrive within
//     ReadTimeout.
//
// grpc-go reads a message whole before a codec sees it and has one receive
// limit for the whole server (MaxMessageBytes), so the places above are
// what bound the memory of messages being received.
type guard struct {
	limits  Limits
	imports *gate // ImportPersons and EnrollMembers
	reads   *gate // messages of the medsettle services being received
}

func newGuard(lim Limits) *guard {
	return &guard{
		limits: lim,
		imports: newGate(lim.MaxImports, 0, lim.QueueWait, codes.ResourceExhausted,
			fmt.Sprintf("%d imports (ImportPersons, EnrollMembers) are in progress, the most the server runs at once; retry when one ends", lim.MaxImports), ""),
		reads: newGate(lim.MaxReads, perCaller(lim.MaxReads, 4), lim.QueueWait, codes.Unavailable,
			fmt.Sprintf("the server is busy receiving %d other requests; retry with backoff (the same request id is safe)", lim.MaxReads),
			fmt.Sprintf("the server is receiving %d other requests of these credentials; retry with backoff (the same request id is safe)", perCaller(lim.MaxReads, 4))),
	}
}

// perCaller is a gate's cap for one caller: a share of its places.
func perCaller(places, share int) int { return max(1, places/share) }

// rawFrame receives a message's wire bytes undecoded (see guardCodec).
type rawFrame struct {
	data mem.BufferSlice
}

func (f *rawFrame) free() {
	if f.data != nil {
		f.data.Free()
		f.data = nil
	}
}

// guardCodec is the server's codec: the protobuf codec, except that a
// rawFrame receives the bytes as they are, for the guard to check before
// it decodes them.
type guardCodec struct {
	base encoding.CodecV2
}

func newGuardCodec() guardCodec {
	return guardCodec{base: encoding.GetCodecV2("proto")}
}

// Marshal encodes with the protobuf codec, the answer of a settlement
// (PreSettle, Settle) through marshalSettleResponse.
func (c guardCodec) Marshal(v any) (mem.BufferSlice, error) {
	if r, ok := v.(*pb.SettleResponse); ok && r != nil {
		if data, ok := marshalSettleResponse(r); ok {
			return data, nil
		}
	}
	return c.base.Marshal(v)
}

// Unmarshal keeps the bytes for a rawFrame and decodes anything else.
func (c guardCodec) Unmarshal(data mem.BufferSlice, v any) error {
	if f, ok := v.(*rawFrame); ok {
		data.Ref()
		f.data = data
		return nil
	}
	return c.base.Unmarshal(data, v)
}

// Name is the protobuf codec's.
func (guardCodec) Name() string { return "proto" }

// gate admits a bounded number of holders, and at most perCaller of them
// from one caller (see callerKey; 0: no such cap), so that one caller
// cannot crowd out the others. A caller waits at most wait for a place.
type gate struct {
	slots     chan struct{}
	perCaller int
	wait      time.Duration
	code      codes.Code
	msg       string // all places taken
	callerMsg string // the caller's own places taken

	mu      sync.Mutex
	callers map[string]*callerPlaces
}

// callerPlaces are one caller's places in a gate, kept while in use.
type callerPlaces struct {
	caller string
	slots  chan struct{}
	users  int
}

func newGate(n, perCaller int, wait time.Duration, code codes.Code, msg, callerMsg string) *gate {
	return &gate{slots: make(chan struct{}, n), perCaller: perCaller, wait: wait, code: code, msg: msg, callerMsg: callerMsg,
		callers: map[string]*callerPlaces{}}
}

// place is a place taken in a gate, given back by release: a value, so
// that taking one allocates no closure.
type place struct {
	g  *gate
	cp *callerPlaces
}

// release gives the place back.
func (p place) release() {
	<-p.g.slots
	if p.cp != nil {
		<-p.cp.slots
		p.g.leave(p.cp.caller, p.cp)
	}
}

// acquire takes a place for caller (its own first, then a shared one), or
// fails with the gate's status after its wait (or with the call's end).
func (g *gate) acquire(ctx context.Context, caller string) (place, error) {
	var cp *callerPlaces
	if g.perCaller > 0 && caller != "" {
		g.mu.Lock()
		cp = g.callers[caller]
		if cp == nil {
			cp = &callerPlaces{caller: caller, slots: make(chan struct{}, g.perCaller)}
			g.callers[caller] = cp
		}
		cp.users++
		g.mu.Unlock()
	}
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	take := func(slots chan struct{}, msg string) error {
		select {
		case slots <- struct{}{}:
			return nil
		default:
		}
		if timer == nil {
			timer = time.NewTimer(g.wait)
		}
		select {
		case slots <- struct{}{}:
			return nil
		case <-timer.C:
			return status.Error(g.code, msg)
		case <-ctx.Done():
			return status.FromContextError(ctx.Err()).Err()
		}
	}
	if cp != nil {
		if err := take(cp.slots, g.callerMsg); err != nil {
			g.leave(caller, cp)
			return place{}, err
		}
	}
	if err := take(g.slots, g.msg); err != nil {
		if cp != nil {
			<-cp.slots
			g.leave(caller, cp)
		}
		return place{}, err
	}
	return place{g: g, cp: cp}, nil
}

// leave forgets a caller's places when nobody uses them.
func (g *gate) leave(caller string, cp *callerPlaces) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if cp.users--; cp.users == 0 {
		delete(g.callers, caller)
	}
}

// guardedRegistrar registers services on a grpc.Server with their
// handlers wrapped by the guard; reflection.Register and health take it
// like the server itself.
type guardedRegistrar struct {
	srv *grpc.Server
	g   *guard
	// local, when set, learns each guarded service too, so that in-process
	// calls take the same path as gRPC's (local.go).
	local *Local
}

// RegisterService registers the guarded copy of sd.
func (r guardedRegistrar) RegisterService(sd *grpc.ServiceDesc, impl any) {
	w := r.g.wrap(sd)
	r.srv.RegisterService(w, impl)
	if r.local != nil {
		r.local.register(w, impl)
	}
}

// GetServiceInfo is the server's.
func (r guardedRegistrar) GetServiceInfo() map[string]grpc.ServiceInfo {
	return r.srv.GetServiceInfo()
}

// importMethods are the calls MaxImports bounds.
var importMethods = map[string]bool{
	"/medsettle.v1.RegistryService/ImportPersons": true,
	"/medsettle.v1.ClearingService/EnrollMembers": true,
}

// wrap returns a copy of sd whose handlers are guarded.
func (g *guard) wrap(sd *grpc.ServiceDesc) *grpc.ServiceDesc {
	out := *sd
	public := publicService("/" + sd.ServiceName + "/")
	var inflight, reads *gate
	if public {
		reads = newGate(g.limits.MaxPublicReads, perCaller(g.limits.MaxPublicReads, 2), g.limits.QueueWait, codes.Unavailable,
			fmt.Sprintf("%s is busy receiving other messages; retry shortly", sd.ServiceName),
			fmt.Sprintf("%s is busy receiving other messages from this address; retry shortly", sd.ServiceName))
	} else {
		reads = g.reads
		inflight = newGate(g.limits.MaxInFlight, perCaller(g.limits.MaxInFlight, 2), g.limits.QueueWait, codes.Unavailable,
			fmt.Sprintf("the server is busy: %d calls of %s are in progress; retry with backoff (the same request id is safe)", g.limits.MaxInFlight, serviceShortName(sd.ServiceName)),
			fmt.Sprintf("these credentials have %d calls of %s in progress, the most one caller may; retry with backoff (the same request id is safe)", perCaller(g.limits.MaxInFlight, 2), serviceShortName(sd.ServiceName)))
	}
	out.Methods = make([]grpc.MethodDesc, len(sd.Methods))
	// A settlement's calls run deep (stack.go).
	deep := "/"+sd.ServiceName+"/" == settlementServicePrefix
	for i, m := range sd.Methods {
		stack := stackAsIs
		switch {
		case deep && m.MethodName == "PreSettle":
			stack = stackPreview
		case deep:
			stack = stackSettle
		}
		out.Methods[i] = grpc.MethodDesc{MethodName: m.MethodName, Handler: g.unary(inflight, reads, stack, m.Handler)}
	}
	out.Streams = make([]grpc.StreamDesc, len(sd.Streams))
	for i, s := range sd.Streams {
		var imports *gate
		if importMethods["/"+sd.ServiceName+"/"+s.StreamName] {
			imports = g.imports
		}
		// A client stream paces its own messages: they are neither timed
		// nor counted in reads (MaxImports bounds the import streams).
		paced := s.ClientStreams && !public
		sreads := reads
		if paced {
			sreads = nil
		}
		s.Handler = g.stream(inflight, imports, sreads, !paced, s.Handler)
		out.Streams[i] = s
	}
	return &out
}

func serviceShortName(full string) string {
	return full[strings.LastIndex(full, ".")+1:]
}

// unary guards a unary handler: a place, then the message read raw within
// ReadTimeout, checked and decoded. A deep handler (the settlement
// service's), once admitted, first gets the stack it will need
// (stackNeed).
func (g *guard) unary(inflight, reads *gate, stack stackNeed, h grpc.MethodHandler) grpc.MethodHandler {
	return func(srv any, ctx context.Context, dec func(any) error, ic grpc.UnaryServerInterceptor) (any, error) {
		if err := refusal(ctx); err != nil {
			return nil, err
		}
		if inflight != nil {
			p, err := inflight.acquire(ctx, callerKey(ctx))
			if err != nil {
				return nil, err
			}
			defer p.release()
		}
		// Admitted: only a call that will run pays for the stack.
		switch stack {
		case stackSettle:
			_ = growStackFor(0)
		case stackPreview:
			_ = growStackForPreview(0)
		}
		return h(srv, ctx, func(v any) error { return g.recv(ctx, dec, v, reads, true) }, ic)
	}
}

// stream guards a stream handler: places for the whole call, and each
// message read raw, checked and decoded (timed when the client does not
// pace the messages).
func (g *guard) stream(inflight, imports, reads *gate, timed bool, h grpc.StreamHandler) grpc.StreamHandler {
	return func(srv any, ss grpc.ServerStream) error {
		if err := refusal(ss.Context()); err != nil {
			return err
		}
		for _, gt := range []*gate{inflight, imports} {
			if gt == nil {
				continue
			}
			p, err := gt.acquire(ss.Context(), callerKey(ss.Context()))
			if err != nil {
				return err
			}
			defer p.release()
		}
		return h(srv, &guardedStream{ServerStream: ss, g: g, reads: reads, timed: timed})
	}
}

// guardedStream reads each message through the guard.
type guardedStream struct {
	grpc.ServerStream
	g     *guard
	reads *gate
	timed bool
}

// RecvMsg reads, checks and decodes the next message.
func (s *guardedStream) RecvMsg(m any) error {
	return s.g.recv(s.Context(), s.ServerStream.RecvMsg, m, s.reads, s.timed)
}

// recv reads one message into v through read (the call's own RecvMsg),
// as raw bytes, then checks and decodes it.
func (g *guard) recv(ctx context.Context, read func(any) error, v any, reads *gate, timed bool) error {
	m, ok := v.(proto.Message)
	if !ok {
		return status.Errorf(codes.Internal, "grpc: cannot decode into %T", v)
	}
	if reads != nil {
		p, err := reads.acquire(ctx, callerKey(ctx))
		if err != nil {
			return err
		}
		defer p.release()
	}
	var f rawFrame
	defer f.free()
	var t *time.Timer
	if timed {
		t = g.readTimer(ctx)
	}
	err := read(&f)
	if t != nil && !t.Stop() {
		return status.Errorf(codes.DeadlineExceeded, "the request message did not arrive within %s", g.limits.ReadTimeout)
	}
	if err != nil {
		return err
	}
	md := m.ProtoReflect().Descriptor()
	if err := checkSize(f.data.Len(), md); err != nil {
		return err
	}
	// The frames are copied into one buffer for decoding (as grpc-go's
	// own codec does) and given back at once.
	buf := f.data.MaterializeToBuffer(mem.DefaultBufferPool())
	f.free()
	defer buf.Free()
	b := buf.ReadOnlyData()
	if err := checkValues(b, md); err != nil {
		return err
	}
	return decodeRequest(b, m)
}

// readTimer ends the call (through the readCtx tapAuth made its context)
// unless stopped within ReadTimeout; Stop reporting false means it had
// fired. Nil without a readCtx.
func (g *guard) readTimer(ctx context.Context) *time.Timer {
	rc, ok := ctx.Value(readCtxKey{}).(*readCtx)
	if !ok {
		return nil
	}
	return time.AfterFunc(g.limits.ReadTimeout, rc.expire)
}
