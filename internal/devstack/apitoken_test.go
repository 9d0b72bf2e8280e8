package devstack

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fenqi/fenqi/api"
)

// make run's API token is made once, kept private, reused, and accepted by
// the API's token parser; tokens from the environment win.
func TestAPITokens(t *testing.T) {
	t.Setenv("FENQI_OPERATOR_TOKENS", "")
	t.Setenv("FENQI_CUSTOMER_TOKENS", "")
	home := t.TempDir()
	env, path, err := APITokens(home)
	if err != nil {
		t.Fatal(err)
	}
	if path != filepath.Join(home, APITokenFile) || len(env) != 2 || !strings.HasPrefix(env[0], "FENQI_OPERATOR_TOKENS="+DevOperator+":") ||
		!strings.HasPrefix(env[1], "FENQI_CUSTOMER_TOKENS=") {
		t.Fatalf("env %v, path %s", env, path)
	}
	customers := strings.TrimPrefix(env[1], "FENQI_CUSTOMER_TOKENS=")
	for _, ref := range ExampleCustomers {
		if !strings.Contains(customers, ref+":") {
			t.Errorf("no customer token for %s in %q", ref, customers)
		}
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file %v, %v: want mode 0600", fi, err)
	}
	if _, err := api.NewTokens(strings.TrimPrefix(env[0], "FENQI_OPERATOR_TOKENS="), customers); err != nil {
		t.Fatalf("the API refuses make run's token: %v", err)
	}
	again, _, err := APITokens(home)
	if err != nil || again[0] != env[0] || again[1] != env[1] {
		t.Fatalf("second run: %v %v, want the same token", again, err)
	}
	if err := os.WriteFile(path, []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := APITokens(home); err == nil || !strings.Contains(err.Error(), "malformed") {
		t.Fatalf("a malformed token file: %v, want an error", err)
	}
	t.Setenv("FENQI_OPERATOR_TOKENS", "ops:0123456789abcdef0123")
	if env, path, err := APITokens(home); err != nil || env != nil || path != "" {
		t.Fatalf("with tokens in the environment: %v %q %v, want them inherited", env, path, err)
	}
}
