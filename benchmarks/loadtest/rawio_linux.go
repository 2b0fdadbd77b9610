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
	rc                           syscall.RawConn
	p, w                         []byte // to read into, to write
	n                            int
	errno, werrno                syscall.Errno
	readFn, writeFn, writeReadFn func(fd uintptr) bool
}

func newRawIO(rc syscall.RawConn) *rawIO {
	x := &rawIO{rc: rc}
	x.readFn, x.writeFn, x.writeReadFn = x.read1, x.write1, x.writeRead1
	return x
}

// writeRead writes w whole and then reads what arrives into p, as write
// and then read, without the read that would find nothing yet (a system
// call per request): the poller's readiness is reset before the write,
// so the answer's arrival, which follows the write, ends the wait that
// follows it. wrote says whether w was written (an error before it is
// the write's, after it the read's); 0 bytes and no error is the end of
// the connection.
func (x *rawIO) writeRead(w, p []byte) (n int, wrote bool, err error) {
	x.w, x.p, x.n, x.errno, x.werrno = w, p, 0, 0, 0
	err = x.rc.Read(x.writeReadFn)
	w, x.w, x.p = x.w, nil, nil
	if x.werrno != 0 {
		return 0, false, os.NewSyscallError("write", x.werrno)
	}
	if len(w) > 0 { // not written: the socket's buffer full, or an error before the write
		if err != nil {
			return 0, false, err
		}
		if err := x.write(w); err != nil {
			return 0, false, err
		}
		n, err := x.read(p)
		return n, true, err
	}
	if err != nil {
		return 0, true, err
	}
	if x.errno != 0 {
		return 0, true, os.NewSyscallError("read", x.errno)
	}
	return x.n, true, nil
}

func (x *rawIO) writeRead1(fd uintptr) bool {
	if len(x.w) == 0 {
		return x.read1(fd) // woken: the answer, or the end of the connection
	}
	for len(x.w) > 0 {
		r, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(unsafe.SliceData(x.w))), uintptr(len(x.w)))
		switch e {
		case 0:
			x.w = x.w[r:]
		case syscall.EINTR:
		case syscall.EAGAIN:
			return true // the rest written by write, then read
		default:
			x.werrno = e
			return true
		}
	}
	return false // written: wait until the answer arrives
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
