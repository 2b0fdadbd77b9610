package main

import (
	"net"
	"os"
	"syscall"
	"unsafe"
)

// The gateway client reads and writes its sockets (non-blocking, through
// the runtime's poller) with raw system calls: a read or write of a
// non-blocking socket never blocks, so the runtime's bookkeeping around a
// system call that may (entersyscall, and waking its monitor thread when
// the process was idle, about a tenth of the client's CPU per claim) is
// not needed. The poller still waits for readiness and deadlines as for
// any net.Conn.

// rawConnOf is c's raw reads and writes, or nil when c has no raw
// connection or the race detector is on (then c's own Read and Write are
// used: the detector counts those, not raw system calls, as synchronizing
// the two ends).
func rawConnOf(c net.Conn) *rawIO {
	if raceEnabled {
		return nil
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return newRawIO(rc)
}

// rawIO is a connection's raw reads and writes, their functions made
// once (a closure passed to RawConn's methods per call would be
// allocated per call).
type rawIO struct {
	rc              syscall.RawConn
	p               []byte
	n               int
	errno           syscall.Errno
	readFn, writeFn func(fd uintptr) bool
}

func newRawIO(rc syscall.RawConn) *rawIO {
	x := &rawIO{rc: rc}
	x.readFn, x.writeFn = x.read1, x.write1
	return x
}

// read reads what has arrived into p (at least a byte, waiting for it as
// conn.Read does); 0 bytes and no error is the end of the connection.
func (x *rawIO) read(p []byte) (int, error) {
	x.p, x.n, x.errno = p, 0, 0
	err := x.rc.Read(x.readFn)
	x.p = nil
	if err != nil {
		return 0, err
	}
	if x.errno != 0 {
		return 0, os.NewSyscallError("read", x.errno)
	}
	return x.n, nil
}

func (x *rawIO) read1(fd uintptr) bool {
	for {
		r, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(unsafe.SliceData(x.p))), uintptr(len(x.p)))
		switch e {
		case 0:
			x.n = int(r)
			return true
		case syscall.EINTR:
		case syscall.EAGAIN:
			return false // wait until readable
		default:
			x.errno = e
			return true
		}
	}
}

// write writes all of p.
func (x *rawIO) write(p []byte) error {
	x.p, x.errno = p, 0
	err := x.rc.Write(x.writeFn)
	x.p = nil
	if err != nil {
		return err
	}
	if x.errno != 0 {
		return os.NewSyscallError("write", x.errno)
	}
	return nil
}

func (x *rawIO) write1(fd uintptr) bool {
	for len(x.p) > 0 {
		r, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(unsafe.SliceData(x.p))), uintptr(len(x.p)))
		switch e {
		case 0:
			x.p = x.p[r:]
		case syscall.EINTR:
		case syscall.EAGAIN:
			return false // wait until writable
		default:
			x.errno = e
			return true
		}
	}
	return true
}
