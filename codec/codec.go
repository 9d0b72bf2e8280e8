// Package codec keeps personal data (names, phone numbers, email addresses,
// ID numbers) off the Temporal server in plaintext: an AES-256-GCM
// converter.PayloadCodec that every fenqi client and worker puts under its
// data converter, and an HTTP codec server for the Temporal Web UI.
//
// An encoded payload has the metadata encoding "binary/encrypted" and
// "encryption-key-id" (the id of the key that encrypted it), and its data
// is nonce||ciphertext of the original payload, marshalled (the scheme of
// Temporal's samples-go encryption sample). Decoding passes payloads that
// are not encrypted through unchanged, so histories recorded before
// encryption was turned on still replay.
//
// Keys come from a key ring (FENQI_CODEC_KEYS or FENQI_CODEC_KEYS_FILE,
// see FromEnv): the first key encrypts, every key decrypts.
package codec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"
)

const (
	// MetadataEncoding is the payload metadata key naming its encoding.
	MetadataEncoding = converter.MetadataEncoding
	// EncodingEncrypted is the encoding of an encrypted payload.
	EncodingEncrypted = "binary/encrypted"
	// MetadataKeyID is the payload metadata key naming the key that
	// encrypted it.
	MetadataKeyID = "encryption-key-id"
)

// Codec is the AES-256-GCM payload codec over a key ring.
type Codec struct {
	ring   KeyRing
	active string
	aeads  map[string]cipher.AEAD
}

var _ converter.PayloadCodec = (*Codec)(nil)

// New is the codec of ring: it encrypts with ring's first key and decrypts
// with any of its keys.
func New(ring KeyRing) (*Codec, error) {
	if len(ring.keys) == 0 {
		return nil, errors.New("codec: empty key ring")
	}
	c := &Codec{ring: ring, active: ring.Active(), aeads: make(map[string]cipher.AEAD, len(ring.keys))}
	for _, k := range ring.keys {
		block, err := aes.NewCipher(k.Secret)
		if err != nil {
			return nil, fmt.Errorf("codec: key %q: %w", k.ID, err)
		}
		gcm, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("codec: key %q: %w", k.ID, err)
		}
		c.aeads[k.ID] = gcm
	}
	return c, nil
}

// KeyRing is the codec's key ring.
func (c *Codec) KeyRing() KeyRing { return c.ring }

// Encode encrypts every payload with the active key.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	aead := c.aeads[c.active]
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return payloads, fmt.Errorf("codec: marshal payload: %w", err)
		}
		nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
		if _, err := rand.Read(nonce); err != nil {
			return payloads, fmt.Errorf("codec: nonce: %w", err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				MetadataEncoding: []byte(EncodingEncrypted),
				MetadataKeyID:    []byte(c.active),
			},
			Data: aead.Seal(nonce, nonce, plain, nil),
		}
	}
	return out, nil
}

// Decode decrypts every encrypted payload with the key its metadata names
// and passes the others through. A payload encrypted with a key the ring
// does not hold, or altered, is an error.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[MetadataEncoding]) != EncodingEncrypted {
			out[i] = p
			continue
		}
		id := string(p.GetMetadata()[MetadataKeyID])
		if id == "" {
			return payloads, errors.New("codec: encrypted payload without an encryption-key-id")
		}
		aead, ok := c.aeads[id]
		if !ok {
			return payloads, fmt.Errorf("codec: payload encrypted with key id %q, which is not in the key ring (%s): add that key to FENQI_CODEC_KEYS", id, strings.Join(c.ring.IDs(), ", "))
		}
		data := p.GetData()
		if len(data) < aead.NonceSize()+aead.Overhead() {
			return payloads, fmt.Errorf("codec: encrypted payload (key id %q) is too short", id)
		}
		plain, err := aead.Open(nil, data[:aead.NonceSize()], data[aead.NonceSize():], nil)
		if err != nil {
			return payloads, fmt.Errorf("codec: decrypt payload with key id %q: %w", id, err)
		}
		var orig commonpb.Payload
		if err := proto.Unmarshal(plain, &orig); err != nil {
			return payloads, fmt.Errorf("codec: unmarshal decrypted payload (key id %q): %w", id, err)
		}
		out[i] = &orig
	}
	return out, nil
}

// DataConverter is the SDK's default data converter with c under it: the
// client.Options.DataConverter of every fenqi client and worker.
func DataConverter(c *Codec) converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)
}

// FailureConverter encodes the message and stack trace of failures
// (activity and workflow errors, update rejections) with c, so that text
// an error happens to quote never reaches the server in plaintext either:
// the client.Options.FailureConverter of every fenqi client and worker.
// Error types and the retry state stay readable.
func FailureConverter(c *Codec) converter.FailureConverter {
	return temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{
		DataConverter:          DataConverter(c),
		EncodeCommonAttributes: true,
	})
}
