package bench

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

func TestNewDirAndReap(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	// A folder of a bench that died, one of a bench still running (this
	// one), and one kept (no owner).
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	for name, owner := range map[string]string{"fenqi-bench-dead": strconv.Itoa(dead.Process.Pid), "fenqi-bench-live": strconv.Itoa(os.Getpid()), "fenqi-bench-kept": ""} {
		dir := filepath.Join(tmp, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if owner != "" {
			if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(owner), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	s := &Servers{}
	if err := s.NewDir(); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{"fenqi-bench-dead": false, "fenqi-bench-live": true, "fenqi-bench-kept": true} {
		if _, err := os.Stat(filepath.Join(tmp, name)); (err == nil) != want {
			t.Errorf("%s exists: %v, want %v", name, err == nil, want)
		}
	}
	if filepath.Dir(s.Dir) != tmp {
		t.Fatalf("the bench folder %s is not in %s", s.Dir, tmp)
	}
	if b, err := os.ReadFile(filepath.Join(s.Dir, ownerFile)); err != nil || string(b) != strconv.Itoa(os.Getpid()) {
		t.Errorf("owner file %q, %v", b, err)
	}
	s.Close()
	if _, err := os.Stat(s.Dir); !os.IsNotExist(err) {
		t.Errorf("Close left %s: %v", s.Dir, err)
	}

	kept := &Servers{}
	if err := kept.NewDir(); err != nil {
		t.Fatal(err)
	}
	kept.Keep = true
	kept.Close()
	if _, err := os.Stat(kept.Dir); err != nil {
		t.Errorf("a kept folder was removed: %v", err)
	}
	if _, err := os.Stat(filepath.Join(kept.Dir, ownerFile)); !os.IsNotExist(err) {
		t.Errorf("a kept folder still has its owner file, so a later bench would reap it")
	}
}
