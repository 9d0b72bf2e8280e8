package codec

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"go.temporal.io/sdk/converter"
)

// Options configure the codec server.
type Options struct {
	// Token, when set, is required as `Authorization: Bearer <token>` on
	// every request but CORS preflights; a request without it gets 401.
	Token string
	// Origins are the Web UI origins allowed to call the server from a
	// browser (for example http://localhost:8233).
	Origins []string
	// MaxBody caps a request body; default 16 MiB.
	MaxBody int64
}

// AllowedHeaders are the request headers the Web UI sends to a codec
// server.
const AllowedHeaders = "Authorization, Content-Type, X-Namespace"

// NewServer is the HTTP codec server of c for the Temporal Web UI and CLI
// (`--codec-endpoint`): POST <prefix>/encode and <prefix>/decode take and
// return a JSON Payloads object. It answers CORS preflights from
// opts.Origins, checks opts.Token, and serves GET /healthz.
func NewServer(c *Codec, opts Options) http.Handler {
	if opts.MaxBody <= 0 {
		opts.MaxBody = 16 << 20
	}
	origins := make(map[string]bool, len(opts.Origins))
	for _, o := range opts.Origins {
		if o = strings.TrimRight(strings.TrimSpace(o), "/"); o != "" {
			origins[o] = true
		}
	}
	codecHandler := converter.NewPayloadCodecHTTPHandler(c)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Add("Vary", "Origin")
		if origin := r.Header.Get("Origin"); origin != "" && origins[origin] {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
		}
		if r.Method == http.MethodOptions {
			// A preflight carries no credentials: it needs no token.
			h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
			h.Set("Access-Control-Allow-Headers", AllowedHeaders)
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if r.URL.Path == "/healthz" && r.Method == http.MethodGet {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = w.Write([]byte("ok\n"))
			return
		}
		if opts.Token != "" && !bearerOK(r.Header.Get("Authorization"), opts.Token) {
			h.Set("WWW-Authenticate", `Bearer realm="fenqi-codec"`)
			http.Error(w, "unauthorized: send Authorization: Bearer <token>", http.StatusUnauthorized)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, opts.MaxBody)
		codecHandler.ServeHTTP(w, r)
	})
}

func bearerOK(header, token string) bool {
	scheme, got, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(token)) == 1
}
