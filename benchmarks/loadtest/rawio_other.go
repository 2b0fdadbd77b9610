//go:build !linux

package main

import "net"

// rawIO has no raw reads and writes off Linux: the gateway client uses
// the connection's own Read and Write.
type rawIO struct{}

// rawConnOf is nil off Linux.
func rawConnOf(net.Conn) *rawIO { return nil }

func (*rawIO) read([]byte) (int, error) { panic("unreachable") }

func (*rawIO) write([]byte) error { panic("unreachable") }

func (*rawIO) writeRead(_, _ []byte) (int, bool, error) { panic("unreachable") }
