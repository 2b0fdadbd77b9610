// Package benchbuild finds the medsettle repository and builds the server
// binary for the load commands of benchmarks/ (loadtest, planbench), so
// that they measure the working tree as it is.
package benchbuild

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// RepoRoot is the directory of go.mod above the working directory; tool
// names the command in the error when there is none.
func RepoRoot(tool string) (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run " + tool + " inside the medsettle repository (no go.mod above the working directory)")
		}
		dir = parent
	}
}

// Binary builds bin/medsettle from the working tree at root and returns
// its path.
func Binary(ctx context.Context, root string) (string, error) {
	bin := filepath.Join(root, "bin", "medsettle")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/medsettle")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/medsettle: %w\n%s", err, out)
	}
	return bin, nil
}
