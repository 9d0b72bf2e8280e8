package devstack_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fenqi/fenqi/codec"
	"github.com/fenqi/fenqi/internal/devstack"
)

func TestCodecKeysKeepsTheDevKeyRing(t *testing.T) {
	t.Setenv(codec.EnvKeys, "")
	t.Setenv(codec.EnvKeysFile, "")
	home := t.TempDir()
	ring, env, source, err := devstack.CodecKeys(home)
	if err != nil {
		t.Fatal(err)
	}
	if source != filepath.Join(home, codec.DevKeysFileName) {
		t.Errorf("source %q, want the dev key file", source)
	}
	if len(env) != 1 || env[0] != codec.EnvKeys+"="+ring.Format() {
		t.Fatalf("env %d entries, want FENQI_CODEC_KEYS with the ring", len(env))
	}
	again, _, _, err := devstack.CodecKeys(home)
	if err != nil || again.Format() != ring.Format() {
		t.Fatalf("second run: %v, %v; want the same ring (plans of one run decode in the next)", again, err)
	}
}

func TestCodecKeysUsesTheEnvironment(t *testing.T) {
	k, err := codec.GenerateKey("prod-1")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := codec.NewKeyRing(k)
	t.Setenv(codec.EnvKeys, want.Format())
	t.Setenv(codec.EnvKeysFile, "")
	home := t.TempDir()
	ring, env, _, err := devstack.CodecKeys(home)
	if err != nil {
		t.Fatal(err)
	}
	if ring.Format() != want.Format() || len(env) != 0 {
		t.Fatalf("ring %v, env %d entries; want the environment's ring, inherited", ring, len(env))
	}
	if _, err := os.Stat(filepath.Join(home, codec.DevKeysFileName)); !os.IsNotExist(err) {
		t.Errorf("a dev key file was written although the environment has a ring: %v", err)
	}
	t.Setenv(codec.EnvKeys, "prod-1:short")
	if _, _, _, err := devstack.CodecKeys(home); err == nil || !strings.Contains(err.Error(), codec.EnvKeys) {
		t.Fatalf("malformed FENQI_CODEC_KEYS: %v, want an error naming it", err)
	}
}
