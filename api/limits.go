package api

import (
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/medsettle/medsettle/engine"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// Limits bounds the work the server takes on, so that no caller, with or
// without credentials, can make it run out of memory, descriptors or
// goroutines. A zero field takes its Default* value.
type Limits struct {
	// MaxInFlight is the most calls of each medsettle service (settlement,
	// registry, policy, clearing: each its own count) handled at once;
	// the message of a call is read only once it has a place.
	MaxInFlight int
	// QueueWait is how long a call waits for a place before it is refused:
	// UNAVAILABLE for MaxInFlight, MaxReads and MaxPublicReads,
	// RESOURCE_EXHAUSTED for MaxImports.
	QueueWait time.Duration
	// MaxImports is the most ImportPersons and EnrollMembers streams
	// (together) in progress at once; each may hold 100,000 persons in
	// memory until it ends.
	MaxImports int
	// MaxReads is the most medsettle messages not paced by the client (the
	// request of a unary call or of a server stream) being received at
	// once, all services together. grpc-go reads a message whole, up to
	// MaxMessageBytes, before its size can be checked: this bounds what
	// callers with a token can make the server hold (MaxReads × 32 MiB).
	MaxReads int
	// MaxPublicReads is the most messages being received at once by each
	// service served without credentials (health, reflection): such a
	// message is read in full (up to MaxMessageBytes) before its size can
	// be refused, so this bounds what callers without a token can make the
	// server hold.
	MaxPublicReads int
	// ReadTimeout is how long the server waits for the message of a unary
	// call (and the first message of a health or reflection stream, every
	// message of a reflection stream) once the call has a place; a call
	// whose message has not arrived by then ends with DEADLINE_EXCEEDED.
	ReadTimeout time.Duration
	// MaxStreams is the most concurrent calls on one connection
	// (grpc.MaxConcurrentStreams); clients queue the others.
	MaxStreams uint32
	// HandshakeTimeout closes a connection that has not finished its TLS
	// and HTTP/2 handshake in time (grpc.ConnectionTimeout).
	HandshakeTimeout time.Duration
	// KeepaliveMinTime is the shortest interval between a client's pings
	// the server tolerates (keepalive.EnforcementPolicy); a client pinging
	// more often is disconnected.
	KeepaliveMinTime time.Duration
	// MaxConnectionIdle closes (GOAWAY) a connection with no call for
	// that long; clients reconnect when they next call.
	MaxConnectionIdle time.Duration
}

// Defaults of Limits (serve flags of the same names).
const (
	// DefaultMaxInFlight is the default of Limits.MaxInFlight.
	DefaultMaxInFlight = 64
	// DefaultQueueWait is the default of Limits.QueueWait.
	DefaultQueueWait = 100 * time.Millisecond
	// DefaultMaxImports is the default of Limits.MaxImports.
	DefaultMaxImports = 2
	// DefaultMaxReads is the default of Limits.MaxReads.
	DefaultMaxReads = 8
	// DefaultMaxPublicReads is the default of Limits.MaxPublicReads.
	DefaultMaxPublicReads = 2
	// DefaultReadTimeout is the default of Limits.ReadTimeout.
	DefaultReadTimeout = 30 * time.Second
	// DefaultMaxStreams is the default of Limits.MaxStreams.
	DefaultMaxStreams = 100
	// DefaultHandshakeTimeout is the default of Limits.HandshakeTimeout.
	DefaultHandshakeTimeout = 5 * time.Second
	// DefaultKeepaliveMinTime is the default of Limits.KeepaliveMinTime.
	DefaultKeepaliveMinTime = 10 * time.Second
	// DefaultMaxConnectionIdle is the default of Limits.MaxConnectionIdle.
	DefaultMaxConnectionIdle = 5 * time.Minute
)

// Fixed transport settings (not knobs: they follow from the API).
const (
	// MaxHeaderBytes bounds the header list of a call (grpc.MaxHeaderListSize;
	// grpc-go's default is 16 MiB). medsettle's calls carry a bearer token
	// and tracing headers: a few hundred bytes.
	MaxHeaderBytes = 16 << 10
	// KeepaliveTime is how long a connection may be silent before the
	// server pings the client.
	KeepaliveTime = 2 * time.Minute
	// KeepaliveTimeout is how long the server waits for the answer to its
	// ping before it closes the connection.
	KeepaliveTimeout = 20 * time.Second
)

// WithDefaults returns l with every zero field set to its default.
func (l Limits) WithDefaults() Limits {
	if l.MaxInFlight <= 0 {
		l.MaxInFlight = DefaultMaxInFlight
	}
	if l.QueueWait <= 0 {
		l.QueueWait = DefaultQueueWait
	}
	if l.MaxImports <= 0 {
		l.MaxImports = DefaultMaxImports
	}
	if l.MaxReads <= 0 {
		l.MaxReads = DefaultMaxReads
	}
	if l.MaxPublicReads <= 0 {
		l.MaxPublicReads = DefaultMaxPublicReads
	}
	if l.ReadTimeout <= 0 {
		l.ReadTimeout = DefaultReadTimeout
	}
	if l.MaxStreams == 0 {
		l.MaxStreams = DefaultMaxStreams
	}
	if l.HandshakeTimeout <= 0 {
		l.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if l.KeepaliveMinTime <= 0 {
		l.KeepaliveMinTime = DefaultKeepaliveMinTime
	}
	if l.MaxConnectionIdle <= 0 {
		l.MaxConnectionIdle = DefaultMaxConnectionIdle
	}
	return l
}

// msgLimit bounds one request message before it is decoded: its size
// on the wire and the number of values (fields, repeated elements and
// nested messages, at every depth) it carries. Decoding allocates about a
// struct per message and a string per text field, so the second bound is
// what keeps a small message of a million empty line items from turning
// into hundreds of megabytes.
type msgLimit struct {
	Bytes  int
	Values int
}

// lineItemBytes is a generous wire size of one line item: a 64-character
// code and a 200-character name of 4-byte UTF-8 characters, three
// 24-character decimals and the tags.
const lineItemBytes = 64*4 + 200*4 + 3*24 + 16

// messageLimits are the per-message limits of the requests that may be
// large; every other request (and every health and reflection message)
// has defaultMessageLimit. The receive limit of the whole server,
// MaxMessageBytes, is the largest of them.
var messageLimits = map[protoreflect.FullName]msgLimit{
	// A claim: at most engine.MaxItems line items (2,000 × 1,144 bytes =
	// 2.2 MiB at the worst), 6 values an item. Twice that is accepted, so
	// that a claim a little over the item limit still decodes and
	// INVALID_ARGUMENT names it (4.4 MiB, 24,000 values).
	(&pb.SettleRequest{}).ProtoReflect().Descriptor().FullName(): {Bytes: 2*engine.MaxItems*lineItemBytes + 64<<10, Values: 2*6*engine.MaxItems + 1024},
	// A policy: a catalog of engine.MaxCatalog entries (5 values each)
	// and a DRG table as long (4 each), plus the small tables. 32 MiB
	// holds 200,000 entries of up to ~80 bytes (codes of up to 64 ASCII
	// characters with their decimals) and a DRG table of tens of thousands.
	(&pb.PutPolicyRequest{}).ProtoReflect().Descriptor().FullName(): {Bytes: MaxMessageBytes, Values: 10*engine.MaxCatalog + 65536},
	// One person, one enrolment: the messages of the import streams.
	(&pb.ImportPersonsRequest{}).ProtoReflect().Descriptor().FullName(): {Bytes: 64 << 10, Values: 256},
	(&pb.EnrollMembersRequest{}).ProtoReflect().Descriptor().FullName(): {Bytes: 64 << 10, Values: 256},
}

// defaultMessageLimit bounds every request not in messageLimits.
var defaultMessageLimit = msgLimit{Bytes: 1 << 20, Values: 65536}

// messageLimit returns the limit of a request type.
func messageLimit(name protoreflect.FullName) msgLimit {
	if l, ok := messageLimits[name]; ok {
		return l
	}
	return defaultMessageLimit
}

// maxCountDepth is the nesting below which countValues stops descending
// (medsettle's messages nest a few levels; proto.Unmarshal has its own
// recursion limit).
const maxCountDepth = 32

// checkMessage refuses, with RESOURCE_EXHAUSTED, wire bytes over the limit
// of the message they are to be decoded into.
func checkMessage(b []byte, m proto.Message) error {
	md := m.ProtoReflect().Descriptor()
	if err := checkSize(len(b), md); err != nil {
		return err
	}
	return checkValues(b, md)
}

// checkSize refuses a message of size bytes over its type's limit.
func checkSize(size int, md protoreflect.MessageDescriptor) error {
	if lim := messageLimit(md.FullName()); size > lim.Bytes {
		return status.Errorf(codes.ResourceExhausted, "a %s of %d bytes is larger than the %d bytes accepted", md.Name(), size, lim.Bytes)
	}
	return nil
}

// checkValues refuses a message carrying more values than its type's
// limit. It reads the wire format without allocating; malformed bytes are
// left to proto.Unmarshal to report.
func checkValues(b []byte, md protoreflect.MessageDescriptor) error {
	lim := messageLimit(md.FullName())
	// Every value counted starts with a tag of its own, a byte at least
	// (values nested in a field lie inside its bytes, after its tag), so
	// a message of no more bytes than the limit cannot carry more values:
	// it is not counted (every claim below some 25 KB, where counting was
	// a pass over the bytes of every Settle; TestValuesAtMostBytes).
	if len(b) <= lim.Values {
		return nil
	}
	n := 0
	count := countValues
	if md == settleRequestDescriptor {
		count = countSettleValues
	}
	if !count(b, md, 0, &n, lim.Values) {
		return status.Errorf(codes.ResourceExhausted, "a %s carries more than the %d values (fields, list elements, messages) accepted", md.Name(), lim.Values)
	}
	return nil
}

// countValues adds to *n the values in b, a message of type md (nil: no
// field is read as a message), and reports false as soon as *n exceeds
// limit.
func countValues(b []byte, md protoreflect.MessageDescriptor, depth int, n *int, limit int) bool {
	return countRecords(b, md, false, depth, n, limit)
}

// settleRequestDescriptor is PreSettle's and Settle's request type.
var settleRequestDescriptor = (&pb.SettleRequest{}).ProtoReflect().Descriptor()

// countSettleValues is countValues of a SettleRequest (md) without a
// descriptor lookup for every record: its only message field is items
// (9), and a LineItem has none, so an item's records are counted without
// looking deeper, as countValues would (TestCountSettleValuesAsGeneric).
func countSettleValues(b []byte, _ protoreflect.MessageDescriptor, depth int, n *int, limit int) bool {
	return countRecords(b, nil, true, depth, n, limit)
}

// countRecords adds to *n the records in b and, below maxCountDepth, those
// of its message fields: found in md, or with settleItems only field 9 (a
// SettleRequest's items, whose fields are no messages). It reports false
// as soon as *n exceeds limit; a malformed record ends the count
// (decoding reports it).
func countRecords(b []byte, md protoreflect.MessageDescriptor, settleItems bool, depth int, n *int, limit int) bool {
	for len(b) > 0 {
		num, typ, l := protowire.ConsumeTag(b)
		if l < 0 {
			return true
		}
		b = b[l:]
		*n++
		if *n > limit {
			return false
		}
		if typ != protowire.BytesType {
			l = protowire.ConsumeFieldValue(num, typ, b)
			if l < 0 {
				return true
			}
			b = b[l:]
			continue
		}
		v, l := protowire.ConsumeBytes(b)
		if l < 0 {
			return true
		}
		b = b[l:]
		if depth >= maxCountDepth {
			continue
		}
		var sub protoreflect.MessageDescriptor
		descend := settleItems && num == 9
		if md != nil {
			if fd := md.Fields().ByNumber(num); fd != nil && fd.Kind() == protoreflect.MessageKind {
				sub, descend = fd.Message(), true
			}
		}
		if descend && !countRecords(v, sub, false, depth+1, n, limit) {
			return false
		}
	}
	return true
}

// String is the one-line summary of l that serve logs at start.
func (l Limits) String() string {
	return fmt.Sprintf("in-flight %d a service (wait %s), imports %d, reads %d, public reads %d a service, read timeout %s, streams %d a connection, handshake %s, keepalive min %s, idle %s",
		l.MaxInFlight, l.QueueWait, l.MaxImports, l.MaxReads, l.MaxPublicReads, l.ReadTimeout, l.MaxStreams, l.HandshakeTimeout, l.KeepaliveMinTime, l.MaxConnectionIdle)
}
