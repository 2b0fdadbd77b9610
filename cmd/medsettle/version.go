package main

import (
	"fmt"
	"io"
	"runtime/debug"
)

// versionText is what `medsettle version` prints: the module version, the
// VCS commit (and whether the tree was modified) and the Go version, as
// recorded in the binary's build info.
func versionText(info *debug.BuildInfo, ok bool) string {
	if !ok || info == nil {
		return "medsettle (no build info: build with go build or go install)\n"
	}
	version := info.Main.Version
	if version == "" {
		version = "(devel)"
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	commit := settings["vcs.revision"]
	if commit == "" {
		commit = "unknown (built without VCS information, e.g. by go run)"
	} else {
		if settings["vcs.modified"] == "true" {
			commit += " (modified)"
		}
		if t := settings["vcs.time"]; t != "" {
			commit += " " + t
		}
	}
	return fmt.Sprintf("medsettle %s\n  module: %s\n  commit: %s\n  go:     %s\n", version, info.Main.Path, commit, info.GoVersion)
}

// runVersion is `medsettle version`.
func runVersion(args []string, stdout io.Writer) error {
	if len(args) > 0 && args[0] != "--help" && args[0] != "-h" {
		return fmt.Errorf("version takes no arguments, got %q", args)
	}
	info, ok := debug.ReadBuildInfo()
	fmt.Fprint(stdout, versionText(info, ok))
	return nil
}
