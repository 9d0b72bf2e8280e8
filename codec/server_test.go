package codec_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/fenqi/fenqi/codec"
)

const uiOrigin = "http://localhost:8233"

func codecServer(t *testing.T, token string) (*codec.Codec, *httptest.Server) {
	t.Helper()
	c := newCodec(t, newKey(t, "k1"))
	srv := httptest.NewServer(codec.NewServer(c, codec.Options{Token: token, Origins: []string{uiOrigin, "http://127.0.0.1:8233/"}}))
	t.Cleanup(srv.Close)
	return c, srv
}

// remote is the SDK's client of a codec server, as the CLI uses it.
func remote(srv *httptest.Server, token string) converter.PayloadCodec {
	return converter.NewRemotePayloadCodec(converter.RemotePayloadCodecOptions{
		Endpoint: srv.URL,
		ModifyRequest: func(r *http.Request) error {
			r.Header.Set("X-Namespace", "default")
			if token != "" {
				r.Header.Set("Authorization", "Bearer "+token)
			}
			return nil
		},
	})
}

func TestServerRoundTrip(t *testing.T) {
	for _, token := range []string{"", "s3cret"} {
		t.Run("token="+token, func(t *testing.T) {
			local, srv := codecServer(t, token)
			rc := remote(srv, token)
			in := []*commonpb.Payload{jsonPayload(personal), jsonPayload(`"second"`)}
			enc, err := rc.Encode(in)
			if err != nil {
				t.Fatalf("remote encode: %v", err)
			}
			for _, p := range enc {
				if string(p.Metadata[codec.MetadataEncoding]) != codec.EncodingEncrypted {
					t.Fatalf("remote encode returned %v, not encrypted", p)
				}
			}
			// What the server encodes, the workers' codec decodes, and back.
			dec, err := local.Decode(enc)
			if err != nil {
				t.Fatalf("local decode: %v", err)
			}
			back, err := rc.Decode(encodeAll(t, local, in))
			if err != nil {
				t.Fatalf("remote decode: %v", err)
			}
			for i := range in {
				if !proto.Equal(dec[i], in[i]) || !proto.Equal(back[i], in[i]) {
					t.Errorf("payload %d: local %v, remote %v, want %v", i, dec[i], back[i], in[i])
				}
			}
		})
	}
}

func encodeAll(t *testing.T, c *codec.Codec, ps []*commonpb.Payload) []*commonpb.Payload {
	t.Helper()
	out, err := c.Encode(ps)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func post(t *testing.T, srv *httptest.Server, path, auth string, body []byte) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", uiOrigin)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestServerRequiresToken(t *testing.T) {
	local, srv := codecServer(t, "s3cret")
	body, err := protojson.Marshal(&commonpb.Payloads{Payloads: encodeAll(t, local, []*commonpb.Payload{jsonPayload(personal)})})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path, auth string
		want             int
	}{
		{"no token", "/decode", "", http.StatusUnauthorized},
		{"wrong token", "/decode", "Bearer nope", http.StatusUnauthorized},
		{"not bearer", "/decode", "Basic czNjcmV0", http.StatusUnauthorized},
		{"token as prefix", "/decode", "Bearer s3cretX", http.StatusUnauthorized},
		{"no token, encode", "/encode", "", http.StatusUnauthorized},
		{"token", "/decode", "Bearer s3cret", http.StatusOK},
		{"token, lower-case scheme", "/decode", "bearer s3cret", http.StatusOK},
		{"token, namespaced path", "/default/decode", "Bearer s3cret", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := post(t, srv, tc.path, tc.auth, body)
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
			// A browser must be able to read a 401 too.
			if got := resp.Header.Get("Access-Control-Allow-Origin"); got != uiOrigin {
				t.Errorf("Access-Control-Allow-Origin %q, want %q", got, uiOrigin)
			}
		})
	}
	// Health needs no token.
	resp, err := http.Get(srv.URL + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
}

func TestServerCORSPreflight(t *testing.T) {
	_, srv := codecServer(t, "s3cret")
	for _, tc := range []struct {
		name, origin string
		allowed      bool
	}{
		{"ui origin", uiOrigin, true},
		{"configured with a trailing slash", "http://127.0.0.1:8233", true},
		{"other origin", "https://evil.example", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodOptions, srv.URL+"/decode", nil)
			req.Header.Set("Origin", tc.origin)
			req.Header.Set("Access-Control-Request-Method", "POST")
			req.Header.Set("Access-Control-Request-Headers", "authorization,content-type,x-namespace")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNoContent {
				t.Fatalf("preflight (no token) status %d, want 204", resp.StatusCode)
			}
			h := resp.Header
			if !tc.allowed {
				if got := h.Get("Access-Control-Allow-Origin"); got != "" {
					t.Fatalf("Access-Control-Allow-Origin %q for an origin not configured", got)
				}
				return
			}
			if got := h.Get("Access-Control-Allow-Origin"); got != tc.origin {
				t.Errorf("Access-Control-Allow-Origin %q, want %q", got, tc.origin)
			}
			if got := h.Get("Access-Control-Allow-Credentials"); got != "true" {
				t.Errorf("Access-Control-Allow-Credentials %q, want true", got)
			}
			allowed := strings.ToLower(h.Get("Access-Control-Allow-Headers"))
			for _, want := range []string{"authorization", "content-type", "x-namespace"} {
				if !strings.Contains(allowed, want) {
					t.Errorf("Access-Control-Allow-Headers %q lacks %s", allowed, want)
				}
			}
			if !strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") {
				t.Errorf("Access-Control-Allow-Methods %q lacks POST", h.Get("Access-Control-Allow-Methods"))
			}
		})
	}
}
