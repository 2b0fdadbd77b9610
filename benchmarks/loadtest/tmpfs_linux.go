package main

import "syscall"

// tmpfsMagic is Linux's TMPFS_MAGIC, statfs's f_type of a tmpfs.
const tmpfsMagic = 0x01021994

// onTmpfs reports whether path is on a tmpfs, where fsync costs nothing
// and a durable PostgreSQL figure would mean little.
func onTmpfs(path string) bool {
	var st syscall.Statfs_t
	return syscall.Statfs(path, &st) == nil && st.Type == tmpfsMagic
}
