package workflows_test

import (
	"log/slog"
	"os"
	"testing"

	"github.com/fenqi/fenqi/internal/testenv"
)

// TestMain starts at most one throwaway PostgreSQL for the package (each
// test gets a database of its own) and removes it when the tests end.
func TestMain(m *testing.M) {
	// Keep warnings, drop the per-database "applied migration" and
	// "customer notified" lines.
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	testenv.Main(m)
}
