package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/medsettle/medsettle/api"
)

// limitFlags are the serve flags that bound the server's work (api.Limits)
// and its connections.
type limitFlags struct {
	api.Limits
	// maxConnections caps the open connections; 0: the descriptor limit
	// less fdReserve.
	maxConnections int
	maxStreams     uint
}

// addLimitFlags registers the limit flags on fs, with api's defaults.
func addLimitFlags(fs *flag.FlagSet, f *limitFlags) {
	fs.IntVar(&f.MaxInFlight, "max-in-flight", api.DefaultMaxInFlight, "most calls of each service (settlement, registry, policy, clearing) handled at once; more wait --queue-wait, then UNAVAILABLE")
	fs.DurationVar(&f.QueueWait, "queue-wait", api.DefaultQueueWait, "how long a call waits for a place (in-flight, read, import) before it is refused")
	fs.IntVar(&f.MaxImports, "max-imports", api.DefaultMaxImports, "most ImportPersons and EnrollMembers streams at once (together); more are RESOURCE_EXHAUSTED")
	fs.IntVar(&f.MaxReads, "max-reads", api.DefaultMaxReads, "most request messages being received at once (each up to 32 MiB); more wait --queue-wait, then UNAVAILABLE")
	fs.IntVar(&f.MaxPublicReads, "max-public-reads", api.DefaultMaxPublicReads, "most messages being received at once by health and by reflection (served without a token), each")
	fs.DurationVar(&f.ReadTimeout, "read-timeout", api.DefaultReadTimeout, "how long a call's request message may take to arrive; then DEADLINE_EXCEEDED")
	fs.UintVar(&f.maxStreams, "max-streams", api.DefaultMaxStreams, "most concurrent calls on one connection (HTTP/2 MAX_CONCURRENT_STREAMS); clients queue the others")
	fs.DurationVar(&f.HandshakeTimeout, "handshake-timeout", api.DefaultHandshakeTimeout, "close a connection that has not finished its TLS and HTTP/2 handshake in this time")
	fs.DurationVar(&f.KeepaliveMinTime, "keepalive-min-time", api.DefaultKeepaliveMinTime, "shortest interval between client pings; a client pinging more often is disconnected")
	fs.DurationVar(&f.MaxConnectionIdle, "max-connection-idle", api.DefaultMaxConnectionIdle, "close a connection with no call for this long (clients reconnect)")
	fs.IntVar(&f.maxConnections, "max-connections", 0, "most open connections; more are closed at once (0: the descriptor limit less 256)")
}

// check refuses limits that would stop the server from serving, and
// completes f.Limits.
func (f *limitFlags) check() error {
	if f.maxStreams == 0 || f.maxStreams > 1<<31-1 {
		return fmt.Errorf("--max-streams must be above 0 and below 2^31, got %d", f.maxStreams)
	}
	f.MaxStreams = uint32(f.maxStreams)
	for _, c := range []struct {
		name string
		bad  bool
	}{
		{"--max-in-flight", f.MaxInFlight <= 0},
		{"--queue-wait", f.QueueWait <= 0},
		{"--max-imports", f.MaxImports <= 0},
		{"--max-reads", f.MaxReads <= 0},
		{"--max-public-reads", f.MaxPublicReads <= 0},
		{"--read-timeout", f.ReadTimeout <= 0},
		{"--handshake-timeout", f.HandshakeTimeout <= 0},
		{"--keepalive-min-time", f.KeepaliveMinTime <= 0},
		{"--max-connection-idle", f.MaxConnectionIdle <= 0},
		{"--max-connections", f.maxConnections < 0},
	} {
		if c.bad {
			return fmt.Errorf("%s must be above 0", c.name)
		}
	}
	return nil
}

// fdReserve is the descriptors kept for everything but client connections:
// the database pool, telemetry exporters, files, the listener.
const fdReserve = 256

// connectionCap is the most client connections for a descriptor limit of
// nofile: the limit less fdReserve (half of it when that leaves less than
// half).
func connectionCap(nofile uint64) int {
	if nofile > 2*fdReserve {
		return int(nofile - fdReserve)
	}
	return max(int(nofile/2), 1)
}

// limitListener holds at most cap connections open. A connection over the
// cap is accepted and closed at once, so that it costs a descriptor for a
// moment and the client learns at once (golang.org/x/net/netutil's
// LimitListener instead leaves it in the kernel's queue, where an idle one
// waits out a whole handshake timeout before it is even seen).
type limitListener struct {
	net.Listener
	slots chan struct{}
	log   *slog.Logger
	// refused counts the connections closed over the cap; lastWarn is when
	// that was last logged (once a minute at most).
	refused  atomic.Int64
	lastWarn atomic.Int64
}

func newLimitListener(l net.Listener, cap int, log *slog.Logger) *limitListener {
	return &limitListener{Listener: l, slots: make(chan struct{}, cap), log: log}
}

// Accept returns the next connection under the cap.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case l.slots <- struct{}{}:
			return &limitedConn{Conn: c, release: func() { <-l.slots }}, nil
		default:
		}
		// Counted before it is closed, so that whoever sees the close
		// (the caller reading EOF, TestLimitListener) sees the count.
		n := l.refused.Add(1)
		_ = c.Close()
		now := time.Now().UnixNano()
		if last := l.lastWarn.Load(); now-last > int64(time.Minute) && l.lastWarn.CompareAndSwap(last, now) {
			l.log.Warn("connection limit reached: closing new connections (--max-connections)", "limit", cap(l.slots), "refused_so_far", n)
		}
	}
}

// limitedConn gives its place back when closed.
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

// Close closes the connection and frees its place (once).
func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// errNoRlimit is raiseFileLimit's answer where descriptor limits are not
// available.
var errNoRlimit = errors.New("descriptor limits are not available on this system")

// defaultConnectionCap is the connection cap where the descriptor limit
// cannot be read.
const defaultConnectionCap = 4096

// setupConnectionCap raises the descriptor limit (RLIMIT_NOFILE) to its
// hard limit and returns the connection cap: want, or when want is 0 the
// descriptor limit less fdReserve.
func setupConnectionCap(want int, log *slog.Logger) int {
	soft, hard, err := raiseFileLimit()
	switch {
	case errors.Is(err, errNoRlimit):
		if want == 0 {
			want = defaultConnectionCap
		}
		return want
	case err != nil:
		log.Warn("descriptor limit", "err", err)
	}
	if want == 0 {
		want = connectionCap(soft)
	} else if soft > 0 && uint64(want) > soft {
		log.Warn("--max-connections is above the descriptor limit: accepting may fail with \"too many open files\"", "max_connections", want, "nofile", soft)
	}
	log.Info("descriptor limit", "nofile", soft, "hard", hard, "max_connections", want)
	return want
}
