//go:build !linux

package main

// onTmpfs reports whether path is on a tmpfs; only Linux is checked.
func onTmpfs(string) bool { return false }
