package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/fenqi/fenqi/codec"
)

// Personal data at rest. The identifying columns of customers (name,
// phone, email, id_number, push_id) and the agreements' text and signer
// (document, signer_name: the text names the borrower) hold ciphertext:
//
//	v1:<key id>:<base64(nonce || AES-256-GCM ciphertext and tag)>
//
// under a key derived (HKDF-SHA256, info "fenqi/store/pii/v1") from a key
// of the codec key ring (FENQI_CODEC_KEYS or FENQI_CODEC_KEYS_FILE, the
// ring that encrypts Temporal payloads): the active (first) key seals,
// every key of the ring opens. The additional data is "<table>.<column>",
// so a value cannot be moved to another column. A value without the
// prefix is a plaintext row written before encryption: it reads as it is,
// and UpsertCustomer, UpdateCustomer and ResealCustomers seal it (and
// values under an older key) with the active key.

// sealVersion prefixes every sealed value.
const sealVersion = "v1"

// ErrNoKeys: a personal value must be sealed or opened and the store has
// no key ring (see WithKeyRing and DefaultKeyRing).
var ErrNoKeys = errors.New("store: no key ring to encrypt personal data")

// DefaultKeyRing is the key ring of a store opened without WithKeyRing:
// that of FENQI_CODEC_KEYS or FENQI_CODEC_KEYS_FILE (codec.RingFromEnv),
// or else the dev key ring of `make run` when it exists, as the starter
// CLI's codec finds it (codec.FromEnvOrDevKeys). It is called once per
// store, on the first personal value the store seals or opens.
var DefaultKeyRing = func() (codec.KeyRing, error) {
	c, err := codec.FromEnvOrDevKeys()
	if err != nil {
		return codec.KeyRing{}, fmt.Errorf("%w: %w", ErrNoKeys, err)
	}
	return c.KeyRing(), nil
}

// Option configures a store.
type Option func(*Store)

// WithKeyRing seals personal data with ring's active key and opens it
// with any of ring's keys (by default: DefaultKeyRing).
func WithKeyRing(ring codec.KeyRing) Option {
	return func(s *Store) { s.sealing.ring = &ring }
}

// sealer encrypts and decrypts personal values.
type sealer struct {
	active string
	aeads  map[string]cipher.AEAD
	// macs are the agreement-hash keys (see agreementHash), by key id.
	macs map[string][]byte
}

// newSealer derives the column keys of ring's keys.
func newSealer(ring codec.KeyRing) (*sealer, error) {
	keys := ring.Keys()
	if len(keys) == 0 {
		return nil, ErrNoKeys
	}
	s := &sealer{active: keys[0].ID, aeads: make(map[string]cipher.AEAD, len(keys)), macs: make(map[string][]byte, len(keys))}
	for _, k := range keys {
		mac, err := hkdf.Key(sha256.New, k.Secret, nil, agreementHashInfo, 32)
		if err != nil {
			return nil, fmt.Errorf("store: derive the agreement-hash key of %q: %w", k.ID, err)
		}
		s.macs[k.ID] = mac
		sub, err := hkdf.Key(sha256.New, k.Secret, nil, "fenqi/store/pii/v1", 32)
		if err != nil {
			return nil, fmt.Errorf("store: derive the column key of %q: %w", k.ID, err)
		}
		block, err := aes.NewCipher(sub)
		if err != nil {
			return nil, fmt.Errorf("store: key %q: %w", k.ID, err)
		}
		gcm, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("store: key %q: %w", k.ID, err)
		}
		s.aeads[k.ID] = gcm
	}
	return s, nil
}

// keys returns the store's sealer, resolving its key ring on first use.
func (s *Store) keys() (*sealer, error) {
	k := s.sealing
	k.once.Do(func() {
		var ring codec.KeyRing
		if k.ring != nil {
			ring = *k.ring
		} else if ring, k.err = DefaultKeyRing(); k.err != nil {
			return
		}
		k.sealer, k.err = newSealer(ring)
	})
	return k.sealer, k.err
}

// isSealed reports whether a stored value is ciphertext: it has the shape
// ^v1:[A-Za-z0-9._-]{1,64}:[A-Za-z0-9+/]+=*$ (migration 008 relies on the
// same shape in agreements_sha256_document_check). A loop, not a regular
// expression: an agreement is read on every step of an onboarding, and
// matching its whole ciphertext with regexp cost 5% of the worker's CPU.
func isSealed(v string) bool {
	rest, ok := strings.CutPrefix(v, sealVersion+":")
	if !ok {
		return false
	}
	id, body, ok := strings.Cut(rest, ":")
	if !ok || len(id) < 1 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !isAlnum(c) && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	b64 := strings.TrimRight(body, "=")
	if b64 == "" {
		return false
	}
	for i := 0; i < len(b64); i++ {
		if c := b64[i]; !isAlnum(c) && c != '+' && c != '/' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// sealedKeyID is the id of the key that sealed v ("" for plaintext).
func sealedKeyID(v string) string {
	if !isSealed(v) {
		return ""
	}
	return strings.SplitN(v, ":", 3)[1]
}

// seal encrypts v for column (table.column) with the active key; "" stays
// "" (SQL NULL: not given).
func (s *Store) seal(column, v string) (string, error) {
	if v == "" {
		return "", nil
	}
	k, err := s.keys()
	if err != nil {
		return "", fmt.Errorf("seal %s: %w", column, err)
	}
	aead := k.aeads[k.active]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(v)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("seal %s: %w", column, err)
	}
	ct := aead.Seal(nonce, nonce, []byte(v), []byte(column))
	return sealVersion + ":" + k.active + ":" + base64.StdEncoding.EncodeToString(ct), nil
}

// open decrypts a value of column; a plaintext value (written before
// encryption) is returned as it is.
func (s *Store) open(column, v string) (string, error) {
	if !isSealed(v) {
		return v, nil
	}
	parts := strings.SplitN(v, ":", 3)
	k, err := s.keys()
	if err != nil {
		return "", fmt.Errorf("open %s sealed with key %q: %w", column, parts[1], err)
	}
	aead, ok := k.aeads[parts[1]]
	if !ok {
		return "", fmt.Errorf("open %s: %w: key %q is not in the key ring (keep retired keys in the ring while data sealed with them is kept)", column, ErrNoKeys, parts[1])
	}
	ct, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(ct) < aead.NonceSize()+aead.Overhead() {
		return "", fmt.Errorf("open %s: malformed ciphertext", column)
	}
	plain, err := aead.Open(nil, ct[:aead.NonceSize()], ct[aead.NonceSize():], []byte(column))
	if err != nil {
		return "", fmt.Errorf("open %s with key %q: %w", column, parts[1], err)
	}
	return string(plain), nil
}

// fresh reports whether a stored value needs no resealing: empty, or
// sealed with the active key.
func (s *Store) fresh(v string) bool {
	if v == "" {
		return true
	}
	k, err := s.keys()
	if err != nil {
		return true // nothing to reseal with
	}
	return sealedKeyID(v) == k.active
}

// Agreement hashes at rest. An agreement's text is built from a published
// template, non-secret terms and the borrower's name, so its plain SHA-256
// would let anyone who reads the database find the name by hashing
// candidate texts. agreements.sha256 and agreements.signed_hash therefore
// hold a keyed hash of it (migration 009):
//
//	hmac:v1:<key id>:<hex(HMAC-SHA256(k, lower-case hex SHA-256 of the text))>
//
// where k is derived (HKDF-SHA256, info "fenqi/store/agreement-hash/v1")
// from a key of the ring: the active key hashes, every key of the ring
// verifies. A 64-hex-digit value is a plain SHA-256 written before
// migration 009; it still reads, and RehashAgreements replaces it.

// agreementHashInfo is the HKDF info of the agreement-hash keys.
const agreementHashInfo = "fenqi/store/agreement-hash/v1"

// agreementHashPrefix prefixes every keyed agreement hash.
const agreementHashPrefix = "hmac:v1:"

var (
	// keyedHashRE recognises a keyed agreement hash (migration 009 checks
	// the same shape in agreements_sha256_check).
	keyedHashRE = regexp.MustCompile(`^hmac:v1:[A-Za-z0-9._-]{1,64}:[0-9a-f]{64}$`)
	// plainHashRE recognises a plain SHA-256 (lower-case hex).
	plainHashRE = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// isKeyedHash reports whether a stored agreement hash is keyed.
func isKeyedHash(v string) bool { return keyedHashRE.MatchString(v) }

// keyedHash is the keyed form of plain (a lower-case hex SHA-256) under
// key id.
func (k *sealer) keyedHash(id, plain string) (string, error) {
	key, ok := k.macs[id]
	if !ok {
		return "", fmt.Errorf("%w: key %q is not in the key ring (keep retired keys in the ring while data hashed with them is kept)", ErrNoKeys, id)
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(plain))
	return agreementHashPrefix + id + ":" + hex.EncodeToString(m.Sum(nil)), nil
}

// agreementHash is the keyed hash, with the active key, of plain (the
// lower-case hex SHA-256 of an agreement text), as agreements.sha256
// stores it.
func (s *Store) agreementHash(plain string) (string, error) {
	k, err := s.keys()
	if err != nil {
		return "", fmt.Errorf("hash agreement: %w", err)
	}
	return k.keyedHash(k.active, plain)
}

// hashMatches reports whether stored (a value of agreements.sha256 or
// signed_hash: keyed with any key of the ring, or a plain SHA-256 written
// before migration 009) is the hash of plain. The comparison takes
// constant time.
func (s *Store) hashMatches(stored, plain string) (bool, error) {
	switch {
	case plainHashRE.MatchString(stored):
		return hmac.Equal([]byte(stored), []byte(plain)), nil
	case isKeyedHash(stored):
		k, err := s.keys()
		if err != nil {
			return false, fmt.Errorf("verify agreement hash: %w", err)
		}
		id := strings.SplitN(stored, ":", 4)[2]
		want, err := k.keyedHash(id, plain)
		if err != nil {
			return false, fmt.Errorf("verify agreement hash: %w", err)
		}
		return hmac.Equal([]byte(stored), []byte(want)), nil
	}
	return false, nil
}
