package codec

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The environment FromEnv reads.
const (
	// EnvKeys is the key ring: id:base64(32 bytes), comma-separated, the
	// first active.
	EnvKeys = "FENQI_CODEC_KEYS"
	// EnvKeysFile is a file holding the key ring in the same format (one
	// key per line or comma-separated; # comments).
	EnvKeysFile = "FENQI_CODEC_KEYS_FILE"
	// EnvInsecureDev=1, with neither of the above set, uses the local dev
	// key ring (DevKeysFile), creating it when missing. Never in production.
	EnvInsecureDev = "FENQI_CODEC_INSECURE_DEV"
)

// DevKeysFileName is the dev key ring's file in the state folder.
const DevKeysFileName = "codec-keys"

// ErrNoKeys is FromEnv's error when no key ring is configured.
var ErrNoKeys = errors.New("codec: no encryption keys configured: set " + EnvKeys + " (id:base64-32-byte-key[,...], the first encrypts) or " + EnvKeysFile +
	"; for local development only, " + EnvInsecureDev + "=1 uses the dev key ring of `make run` (.fenqi/" + DevKeysFileName + ")")

// FromEnv is the codec of the key ring in the environment:
// FENQI_CODEC_KEYS, or else FENQI_CODEC_KEYS_FILE (setting both is an
// error, as is a malformed ring). With neither, FENQI_CODEC_INSECURE_DEV=1
// uses the dev key ring `make run` keeps (DevKeysFile, created when
// missing); otherwise the error is ErrNoKeys. Production sets
// FENQI_CODEC_KEYS (or the file) on every worker, API, CLI and codec
// server, with the same keys.
func FromEnv() (*Codec, error) {
	ring, err := RingFromEnv()
	if err != nil {
		return nil, err
	}
	return New(ring)
}

// RingFromEnv is the key ring FromEnv uses.
func RingFromEnv() (KeyRing, error) {
	keys, file := strings.TrimSpace(os.Getenv(EnvKeys)), strings.TrimSpace(os.Getenv(EnvKeysFile))
	switch {
	case keys != "" && file != "":
		return KeyRing{}, fmt.Errorf("codec: both %s and %s are set: set one", EnvKeys, EnvKeysFile)
	case keys != "":
		ring, err := ParseKeyRing(keys)
		if err != nil {
			return KeyRing{}, fmt.Errorf("%s: %w", EnvKeys, err)
		}
		return ring, nil
	case file != "":
		ring, err := ReadKeyFile(file)
		if err != nil {
			return KeyRing{}, fmt.Errorf("%s: %w", EnvKeysFile, err)
		}
		return ring, nil
	}
	switch v := strings.TrimSpace(os.Getenv(EnvInsecureDev)); v {
	case "", "0", "false":
		return KeyRing{}, ErrNoKeys
	case "1", "true":
		path, err := DevKeysFile()
		if err != nil {
			return KeyRing{}, fmt.Errorf("%s=1: %w", EnvInsecureDev, err)
		}
		return LoadDevKeyRing(path)
	default:
		return KeyRing{}, fmt.Errorf("codec: %s=%q: want 1 or 0", EnvInsecureDev, v)
	}
}

// FromEnvOrDevKeys is FromEnv for developer tools such as the starter
// CLI, which by default talk to `make run`: with no key ring configured
// it uses `make run`'s dev key ring when that file exists (DevKeysFile, or
// codec-keys beside the bin folder holding the tool); it never creates
// one.
func FromEnvOrDevKeys() (*Codec, error) {
	c, err := FromEnv()
	if !errors.Is(err, ErrNoKeys) {
		return c, err
	}
	// make run's state folder: FENQI_HOME or the repository's .fenqi, or
	// the folder above .fenqi/bin, where make builds the tools.
	var tried []string
	if path, perr := DevKeysFile(); perr == nil {
		tried = append(tried, path)
	}
	if exe, perr := os.Executable(); perr == nil {
		tried = append(tried, filepath.Join(filepath.Dir(filepath.Dir(exe)), DevKeysFileName))
	}
	for _, path := range tried {
		ring, rerr := ReadKeyFile(path)
		if errors.Is(rerr, os.ErrNotExist) {
			continue
		}
		if rerr != nil {
			return nil, rerr
		}
		return New(ring)
	}
	return nil, fmt.Errorf("%w (and no dev key ring of `make run` at %s)", err, strings.Join(tried, " or "))
}

// LoadDevKeyRing reads the dev key ring at path, creating it with a new
// key when it does not exist yet.
func LoadDevKeyRing(path string) (KeyRing, error) {
	return LoadOrCreateKeyFile(path, "dev-", "fenqi's local dev key ring (make run); the first key encrypts, all decrypt.\n"+
		"Not for production: set "+EnvKeys+" there.")
}

// DevKeysFile is where `make run` keeps its dev key ring:
// $FENQI_HOME/codec-keys, by default <repo>/.fenqi/codec-keys.
func DevKeysFile() (string, error) {
	if home := os.Getenv("FENQI_HOME"); home != "" {
		return filepath.Join(home, DevKeysFileName), nil
	}
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, ".fenqi", DevKeysFileName), nil
}

// repoRoot walks up from the working directory to the folder holding
// fenqi's go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("codec: find the dev key ring: %w", err)
	}
	const want = "module github.com/fenqi/fenqi\n"
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.HasPrefix(string(b), want) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("codec: find the dev key ring: not inside the fenqi repository (set FENQI_HOME)")
		}
		dir = parent
	}
}
