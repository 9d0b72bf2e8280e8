package devstack

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// TemporalCLIModule is the package path of the pinned Temporal CLI; its
// version is fixed by tools/go.mod.
const TemporalCLIModule = "github.com/temporalio/cli/cmd/temporal"

// TemporalCLI returns the path of the pinned Temporal CLI under
// <repo>/.fenqi/bin, building it from tools/go.mod when it is missing (or
// $FENQI_TEMPORAL_CLI when set). The build writes to a temporary name and
// renames it, so concurrent test binaries never see a half-written file.
func TemporalCLI(ctx context.Context) (string, error) {
	if p := os.Getenv("FENQI_TEMPORAL_CLI"); p != "" {
		return p, nil
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(root, ".fenqi", "bin", "temporal")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return "", fmt.Errorf("create %s: %w", filepath.Dir(bin), err)
	}
	tmp := fmt.Sprintf("%s.%d.tmp", bin, os.Getpid())
	cmd := exec.CommandContext(ctx, "go", "build", "-o", tmp, TemporalCLIModule)
	cmd.Dir = filepath.Join(root, "tools")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build the pinned temporal CLI in %s: %w: %s", cmd.Dir, err, strings.TrimSpace(string(out)))
	}
	if err := os.Rename(tmp, bin); err != nil {
		return "", fmt.Errorf("install temporal CLI at %s: %w", bin, err)
	}
	return bin, nil
}
