package codec

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// KeySize is the size of an AES-256 key in bytes.
const KeySize = 32

// Key is one AES-256 key of a key ring. Its String shows the id only, so
// a key printed by mistake does not leak its secret.
type Key struct {
	ID     string
	Secret []byte
}

// String is the key's id.
func (k Key) String() string { return k.ID }

// GoString is the key's id, for %#v.
func (k Key) GoString() string { return "codec.Key{ID: " + fmt.Sprintf("%q", k.ID) + "}" }

// GenerateKey returns a new random key named id.
func GenerateKey(id string) (Key, error) {
	if err := validID(id); err != nil {
		return Key{}, err
	}
	secret := make([]byte, KeySize)
	if _, err := rand.Read(secret); err != nil {
		return Key{}, fmt.Errorf("codec: generate key %q: %w", id, err)
	}
	return Key{ID: id, Secret: secret}, nil
}

// NewKeyID is a fresh key id with the given prefix, such as "dev-3f9a1c2e".
func NewKeyID(prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// KeyRing is an ordered set of keys: the first is the active key, which
// encrypts; every key decrypts. To rotate, put a new key first and keep
// the old ones until no history that needs them is retained. Its String
// shows the ids only.
type KeyRing struct {
	keys []Key
}

// NewKeyRing is the ring of keys, the first active. Ids must be unique and
// every secret 32 bytes.
func NewKeyRing(keys ...Key) (KeyRing, error) {
	if len(keys) == 0 {
		return KeyRing{}, errors.New("codec: a key ring needs at least one key")
	}
	seen := make(map[string]bool, len(keys))
	ring := KeyRing{keys: make([]Key, 0, len(keys))}
	for i, k := range keys {
		if err := validID(k.ID); err != nil {
			return KeyRing{}, fmt.Errorf("codec: key %d: %w", i+1, err)
		}
		if seen[k.ID] {
			return KeyRing{}, fmt.Errorf("codec: key id %q appears twice", k.ID)
		}
		seen[k.ID] = true
		if len(k.Secret) != KeySize {
			return KeyRing{}, fmt.Errorf("codec: key %q is %d bytes, want %d (AES-256)", k.ID, len(k.Secret), KeySize)
		}
		ring.keys = append(ring.keys, Key{ID: k.ID, Secret: append([]byte(nil), k.Secret...)})
	}
	return ring, nil
}

// ParseKeyRing reads the FENQI_CODEC_KEYS format: `id:base64(32 bytes)`
// entries separated by commas or new lines, the first active. Blank
// entries and lines starting with # are ignored. Errors name the entry and
// its id, never the secret.
func ParseKeyRing(s string) (KeyRing, error) {
	var keys []Key
	n := 0
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		for _, entry := range strings.Split(line, ",") {
			entry = strings.TrimSpace(entry)
			if entry == "" {
				continue
			}
			n++
			id, secret, ok := strings.Cut(entry, ":")
			id, secret = strings.TrimSpace(id), strings.TrimSpace(secret)
			if !ok {
				return KeyRing{}, fmt.Errorf("codec: key entry %d is not id:base64-secret", n)
			}
			if err := validID(id); err != nil {
				return KeyRing{}, fmt.Errorf("codec: key entry %d: %w", n, err)
			}
			b, err := decodeSecret(secret)
			if err != nil {
				return KeyRing{}, fmt.Errorf("codec: key %q: secret is not base64", id)
			}
			keys = append(keys, Key{ID: id, Secret: b})
		}
	}
	if len(keys) == 0 {
		return KeyRing{}, errors.New("codec: the key list is empty (want id:base64-secret[,id:base64-secret...])")
	}
	return NewKeyRing(keys...)
}

func decodeSecret(s string) ([]byte, error) {
	var firstErr error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		b, err := enc.DecodeString(s)
		if err == nil {
			return b, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, firstErr
}

var idRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

func validID(id string) error {
	if !idRE.MatchString(id) {
		return fmt.Errorf("key id %q: want 1-64 letters, digits, '.', '_' or '-'", id)
	}
	return nil
}

// Active is the id of the key that encrypts.
func (r KeyRing) Active() string {
	if len(r.keys) == 0 {
		return ""
	}
	return r.keys[0].ID
}

// IDs are the ring's key ids, the active one first.
func (r KeyRing) IDs() []string {
	ids := make([]string, len(r.keys))
	for i, k := range r.keys {
		ids[i] = k.ID
	}
	return ids
}

// Keys are copies of the ring's keys, the active one first.
func (r KeyRing) Keys() []Key {
	keys := make([]Key, len(r.keys))
	for i, k := range r.keys {
		keys[i] = Key{ID: k.ID, Secret: append([]byte(nil), k.Secret...)}
	}
	return keys
}

// Rotate is the ring with k as the new active key and every key of r
// still decrypting.
func (r KeyRing) Rotate(k Key) (KeyRing, error) {
	return NewKeyRing(append([]Key{k}, r.keys...)...)
}

// String lists the ids, the active one first; never the secrets.
func (r KeyRing) String() string {
	return "KeyRing[" + strings.Join(r.IDs(), ",") + "]"
}

// Format is the ring in the FENQI_CODEC_KEYS format (it holds the secrets).
func (r KeyRing) Format() string {
	entries := make([]string, len(r.keys))
	for i, k := range r.keys {
		entries[i] = k.ID + ":" + base64.StdEncoding.EncodeToString(k.Secret)
	}
	return strings.Join(entries, ",")
}

// ReadKeyFile reads a key ring file: the FENQI_CODEC_KEYS format, one key
// per line or comma-separated, # comments allowed.
func ReadKeyFile(path string) (KeyRing, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return KeyRing{}, fmt.Errorf("codec: read key file: %w", err)
	}
	ring, err := ParseKeyRing(string(b))
	if err != nil {
		return KeyRing{}, fmt.Errorf("%w (in %s)", err, path)
	}
	return ring, nil
}

// WriteKeyFile writes ring to path (mode 0600), one key per line, through
// a temporary file so that a reader never sees half a ring.
func WriteKeyFile(path string, ring KeyRing, comment string) error {
	return writeKeyFile(path, ring, comment, false)
}

// writeKeyFile writes through a temporary file; exclusive leaves a file
// already at path as it is (and is no error).
func writeKeyFile(path string, ring KeyRing, comment string, exclusive bool) error {
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(comment), "\n") {
		if line != "" {
			b.WriteString("# " + line + "\n")
		}
	}
	b.WriteString(strings.ReplaceAll(ring.Format(), ",", "\n") + "\n")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("codec: create %s: %w", filepath.Dir(path), err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("codec: write key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("codec: write key file: %w", err)
	}
	if _, err := tmp.WriteString(b.String()); err != nil {
		tmp.Close()
		return fmt.Errorf("codec: write key file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("codec: write key file: %w", err)
	}
	if exclusive {
		if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("codec: write key file: %w", err)
		}
		return nil
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("codec: write key file: %w", err)
	}
	return nil
}

// LoadOrCreateKeyFile reads the key ring at path, or creates it with one
// new key (id prefix + random) when the file does not exist. `make run`
// keeps its dev key ring this way, so that plans recorded by one run
// decode in the next.
func LoadOrCreateKeyFile(path, prefix, comment string) (KeyRing, error) {
	ring, err := ReadKeyFile(path)
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		return ring, err
	}
	k, err := GenerateKey(NewKeyID(prefix))
	if err != nil {
		return KeyRing{}, err
	}
	if ring, err = NewKeyRing(k); err != nil {
		return KeyRing{}, err
	}
	// Another process may create it at the same time: the first file
	// written wins, and both read it.
	if err := writeKeyFile(path, ring, comment, true); err != nil {
		return KeyRing{}, err
	}
	return ReadKeyFile(path)
}
