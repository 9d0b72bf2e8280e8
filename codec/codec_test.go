package codec_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"

	"github.com/fenqi/fenqi/codec"
)

func newKey(t *testing.T, id string) codec.Key {
	t.Helper()
	k, err := codec.GenerateKey(id)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newCodec(t *testing.T, keys ...codec.Key) *codec.Codec {
	t.Helper()
	ring, err := codec.NewKeyRing(keys...)
	if err != nil {
		t.Fatal(err)
	}
	c, err := codec.New(ring)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func jsonPayload(s string) *commonpb.Payload {
	return &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(s)}
}

func encodeOne(t *testing.T, c *codec.Codec, p *commonpb.Payload) *commonpb.Payload {
	t.Helper()
	out, err := c.Encode([]*commonpb.Payload{p})
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	return out[0]
}

func decodeOne(c *codec.Codec, p *commonpb.Payload) (*commonpb.Payload, error) {
	out, err := c.Decode([]*commonpb.Payload{p})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

const personal = `{"name":"张三 (demo)","phone":"+86 138 0000 0001","email":"zhang.demo@example.com","id_number":"110101199003078515"}`

func TestRoundTrip(t *testing.T) {
	c := newCodec(t, newKey(t, "k1"))
	for _, tc := range []struct {
		name string
		in   *commonpb.Payload
	}{
		{"personal json", jsonPayload(personal)},
		{"empty data", &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("binary/null")}}},
		{"no metadata", &commonpb.Payload{Data: []byte{0, 1, 2, 255}}},
		{"large", jsonPayload(`"` + strings.Repeat("张三", 100_000) + `"`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			enc := encodeOne(t, c, tc.in)
			if got := string(enc.Metadata[codec.MetadataEncoding]); got != codec.EncodingEncrypted {
				t.Errorf("encoding = %q, want %q", got, codec.EncodingEncrypted)
			}
			if got := string(enc.Metadata[codec.MetadataKeyID]); got != "k1" {
				t.Errorf("key id = %q, want k1", got)
			}
			if len(tc.in.Data) > 4 && bytes.Contains(enc.Data, tc.in.Data[:5]) {
				t.Errorf("encoded data contains the plaintext")
			}
			if len(enc.Metadata) != 2 {
				t.Errorf("encoded metadata %v: want only encoding and key id (the original metadata is inside the ciphertext)", enc.Metadata)
			}
			dec, err := decodeOne(c, enc)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !proto.Equal(dec, tc.in) {
				t.Errorf("round trip changed the payload: got %v, want %v", dec, tc.in)
			}
		})
	}
	// Every encoding uses a fresh nonce.
	a, b := encodeOne(t, c, jsonPayload(personal)), encodeOne(t, c, jsonPayload(personal))
	if bytes.Equal(a.Data, b.Data) {
		t.Error("two encodings of one payload are identical: the nonce is not fresh")
	}
}

func TestRotation(t *testing.T) {
	oldKey, newK := newKey(t, "2025-01"), newKey(t, "2026-01")
	before := newCodec(t, oldKey)
	rotated, err := before.KeyRing().Rotate(newK)
	if err != nil {
		t.Fatal(err)
	}
	after, err := codec.New(rotated)
	if err != nil {
		t.Fatal(err)
	}
	if got := rotated.IDs(); strings.Join(got, ",") != "2026-01,2025-01" {
		t.Fatalf("rotated ring ids %v, want the new key first", got)
	}
	oldPayload := encodeOne(t, before, jsonPayload(personal))
	newPayload := encodeOne(t, after, jsonPayload(personal))
	for _, tc := range []struct {
		name    string
		c       *codec.Codec
		p       *commonpb.Payload
		wantErr string
	}{
		{"new ring decrypts with the old key", after, oldPayload, ""},
		{"new ring decrypts with the new key", after, newPayload, ""},
		{"old ring does not know the new key", before, newPayload, `"2026-01"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeOne(tc.c, tc.p)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("decode error %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if string(got.Data) != personal {
				t.Errorf("decoded %q", got.Data)
			}
		})
	}
	if id := string(newPayload.Metadata[codec.MetadataKeyID]); id != "2026-01" {
		t.Errorf("the rotated ring encrypts with %q, want the new key 2026-01", id)
	}
}

func TestDecodeRejects(t *testing.T) {
	k1, k2 := newKey(t, "k1"), newKey(t, "k2")
	c := newCodec(t, k1, k2)
	good := encodeOne(t, c, jsonPayload(personal))
	with := func(f func(p *commonpb.Payload)) *commonpb.Payload {
		p := proto.Clone(good).(*commonpb.Payload)
		f(p)
		return p
	}
	for _, tc := range []struct {
		name    string
		p       *commonpb.Payload
		wantErr string
	}{
		{"ciphertext byte flipped", with(func(p *commonpb.Payload) { p.Data[len(p.Data)/2] ^= 1 }), "authentication failed"},
		{"tag byte flipped", with(func(p *commonpb.Payload) { p.Data[len(p.Data)-1] ^= 0x80 }), "authentication failed"},
		{"nonce byte flipped", with(func(p *commonpb.Payload) { p.Data[0] ^= 1 }), "authentication failed"},
		{"truncated", with(func(p *commonpb.Payload) { p.Data = p.Data[:10] }), "too short"},
		{"appended", with(func(p *commonpb.Payload) { p.Data = append(p.Data, 0) }), "authentication failed"},
		{"key id swapped to another key of the ring", with(func(p *commonpb.Payload) { p.Metadata[codec.MetadataKeyID] = []byte("k2") }), "authentication failed"},
		{"unknown key id", with(func(p *commonpb.Payload) { p.Metadata[codec.MetadataKeyID] = []byte("retired-2019") }), `key id "retired-2019", which is not in the key ring (k1, k2)`},
		{"no key id", with(func(p *commonpb.Payload) { delete(p.Metadata, codec.MetadataKeyID) }), "without an encryption-key-id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeOne(c, tc.p)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("decode error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestDecodePassesPlaintextThrough(t *testing.T) {
	c := newCodec(t, newKey(t, "k1"))
	for _, tc := range []struct {
		name string
		p    *commonpb.Payload
	}{
		{"json", jsonPayload(personal)},
		{"null", &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("binary/null")}}},
		{"no metadata", &commonpb.Payload{Data: []byte("x")}},
		{"other codec", &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("binary/zlib")}, Data: []byte{1, 2}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeOne(c, tc.p)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !proto.Equal(got, tc.p) {
				t.Errorf("decode changed a plaintext payload: %v, want %v", got, tc.p)
			}
		})
	}
}

type customer struct {
	Name  string `json:"name"`
	Phone string `json:"phone"`
}

func TestDataConverter(t *testing.T) {
	c := newCodec(t, newKey(t, "k1"))
	dc := codec.DataConverter(c)
	in := customer{Name: "张三 (demo)", Phone: "+86 138 0000 0001"}
	p, err := dc.ToPayload(in)
	if err != nil {
		t.Fatal(err)
	}
	if string(p.Metadata["encoding"]) != codec.EncodingEncrypted || bytes.Contains(p.Data, []byte("138")) {
		t.Fatalf("payload %v is not encrypted", p)
	}
	var out customer
	if err := dc.FromPayload(p, &out); err != nil || out != in {
		t.Fatalf("FromPayload = %+v, %v; want %+v", out, err, in)
	}
	// What was written before encryption still reads.
	plain, _ := converter.GetDefaultDataConverter().ToPayload(in)
	out = customer{}
	if err := dc.FromPayload(plain, &out); err != nil || out != in {
		t.Fatalf("FromPayload(plaintext) = %+v, %v; want %+v", out, err, in)
	}
	// Without the codec the payload is unreadable.
	if err := converter.GetDefaultDataConverter().FromPayload(p, &out); err == nil {
		t.Fatal("the default converter decoded an encrypted payload")
	}
}

func TestFailureConverterEncryptsMessages(t *testing.T) {
	c := newCodec(t, newKey(t, "k1"))
	fc := codec.FailureConverter(c)
	f := fc.ErrorToFailure(temporal.NewApplicationError("no such customer 张三 (demo)", "NotFound"))
	b, err := proto.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("张三")) {
		t.Fatalf("failure %v carries the message in plaintext", f)
	}
	if f.GetApplicationFailureInfo().GetType() != "NotFound" {
		t.Errorf("failure type %q, want NotFound (types stay readable)", f.GetApplicationFailureInfo().GetType())
	}
	var appErr *temporal.ApplicationError
	if err := fc.FailureToError(f); !errors.As(err, &appErr) || appErr.Message() != "no such customer 张三 (demo)" {
		t.Fatalf("FailureToError = %v, want the message back", err)
	}
}

func b64(n int) string { return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, n)) }

func TestParseKeyRing(t *testing.T) {
	secret := b64(32)
	for _, tc := range []struct {
		name    string
		in      string
		wantIDs string
		wantErr string
	}{
		{"one", "k1:" + secret, "k1", ""},
		{"comma-separated, spaces", " k2:" + secret + " , k1:" + secret + " ", "k2,k1", ""},
		{"lines and comments", "# ring\nk2:" + secret + "\n\nk1:" + secret + "\n", "k2,k1", ""},
		{"unpadded base64", "k1:" + strings.TrimRight(secret, "="), "k1", ""},
		{"empty", " , ", "", "empty"},
		{"no colon", "k1" + secret, "", "not id:base64-secret"},
		{"empty id", ":" + secret, "", "key id"},
		{"bad id", "k 1:" + secret, "", "key id"},
		{"not base64", "k1:%%%%", "", `key "k1": secret is not base64`},
		{"16 bytes", "k1:" + b64(16), "", `key "k1" is 16 bytes, want 32`},
		{"duplicate id", "k1:" + secret + ",k1:" + secret, "", `"k1" appears twice`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ring, err := codec.ParseKeyRing(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("error %q quotes the secret", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(ring.IDs(), ","); got != tc.wantIDs {
				t.Errorf("ids %s, want %s", got, tc.wantIDs)
			}
			if strings.Contains(ring.String(), secret) || strings.Contains(ring.String(), strings.TrimRight(secret, "=")) {
				t.Errorf("String() %q shows a secret", ring.String())
			}
			again, err := codec.ParseKeyRing(ring.Format())
			if err != nil || again.Format() != ring.Format() {
				t.Errorf("Format does not parse back: %v", err)
			}
		})
	}
}

func TestFromEnv(t *testing.T) {
	secret := b64(32)
	dir := t.TempDir()
	goodFile := filepath.Join(dir, "keys")
	if err := os.WriteFile(goodFile, []byte("# rotated 2026-01\nnew:"+secret+"\nold:"+b64(32)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	badFile := filepath.Join(dir, "bad")
	if err := os.WriteFile(badFile, []byte("new:"+b64(8)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		keys, file string
		dev        string
		wantActive string
		wantErr    string
		wantNoKeys bool
	}{
		{name: "keys", keys: "a:" + secret + ",b:" + secret, wantActive: "a"},
		{name: "file", file: goodFile, wantActive: "new"},
		{name: "nothing set", wantNoKeys: true, wantErr: "FENQI_CODEC_KEYS"},
		{name: "dev off", dev: "0", wantNoKeys: true},
		{name: "malformed keys", keys: "a=" + secret, wantErr: "FENQI_CODEC_KEYS: codec: key entry 1"},
		{name: "short key", keys: "a:" + b64(31), wantErr: "31 bytes"},
		{name: "malformed file", file: badFile, wantErr: "8 bytes"},
		{name: "missing file", file: filepath.Join(dir, "nope"), wantErr: "FENQI_CODEC_KEYS_FILE"},
		{name: "both set", keys: "a:" + secret, file: goodFile, wantErr: "set one"},
		{name: "dev malformed", dev: "yes please", wantErr: "FENQI_CODEC_INSECURE_DEV"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(codec.EnvKeys, tc.keys)
			t.Setenv(codec.EnvKeysFile, tc.file)
			t.Setenv(codec.EnvInsecureDev, tc.dev)
			c, err := codec.FromEnv()
			if tc.wantErr != "" || tc.wantNoKeys {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				if errors.Is(err, codec.ErrNoKeys) != tc.wantNoKeys {
					t.Fatalf("error %v: ErrNoKeys %v, want %v", err, errors.Is(err, codec.ErrNoKeys), tc.wantNoKeys)
				}
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("error %q quotes the secret", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.KeyRing().Active(); got != tc.wantActive {
				t.Errorf("active key %q, want %q", got, tc.wantActive)
			}
		})
	}
}

func TestInsecureDevKeyRingIsCreatedOnceAndKept(t *testing.T) {
	home := t.TempDir()
	t.Setenv("FENQI_HOME", home)
	t.Setenv(codec.EnvKeys, "")
	t.Setenv(codec.EnvKeysFile, "")
	// Developer tools read make run's ring only when it exists.
	t.Setenv(codec.EnvInsecureDev, "")
	if _, err := codec.FromEnvOrDevKeys(); !errors.Is(err, codec.ErrNoKeys) {
		t.Fatalf("FromEnvOrDevKeys without a dev ring: %v, want ErrNoKeys", err)
	}
	t.Setenv(codec.EnvInsecureDev, "1")
	first, err := codec.FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(home, codec.DevKeysFileName)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("dev key ring not written: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("dev key ring mode %v, want 0600", fi.Mode().Perm())
	}
	second, err := codec.FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if first.KeyRing().Format() != second.KeyRing().Format() || !strings.HasPrefix(first.KeyRing().Active(), "dev-") {
		t.Fatalf("dev key ring changed between runs: %v then %v", first.KeyRing(), second.KeyRing())
	}
	t.Setenv(codec.EnvInsecureDev, "")
	tool, err := codec.FromEnvOrDevKeys()
	if err != nil || tool.KeyRing().Format() != first.KeyRing().Format() {
		t.Fatalf("FromEnvOrDevKeys = %v, %v; want the dev ring", tool, err)
	}
}
