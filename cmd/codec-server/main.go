// Command codec-server decodes (and encodes) fenqi's encrypted Temporal
// payloads over HTTP for the Temporal Web UI and CLI, so that operators
// see plans in plaintext while the Temporal server holds only ciphertext.
// Point the UI at it (the UI's codec endpoint, or `temporal server
// start-dev --ui-codec-endpoint http://127.0.0.1:8081`) or the CLI
// (`temporal workflow show --codec-endpoint http://127.0.0.1:8081
// --codec-auth "Bearer $FENQI_CODEC_TOKEN"`).
//
// Configuration (environment): FENQI_CODEC_KEYS or FENQI_CODEC_KEYS_FILE
// (the key ring, as for the worker and the API; see package codec),
// FENQI_CODEC_ADDR (default 127.0.0.1:8081), FENQI_CODEC_CORS_ORIGINS
// (comma-separated Web UI origins allowed to call it, default
// http://localhost:8233), FENQI_CODEC_TOKEN (when set, every request but a
// CORS preflight needs `Authorization: Bearer <token>`).
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/fenqi/fenqi/codec"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	slog.SetDefault(logger)
	if err := run(logger); err != nil {
		logger.Error("codec server stopped", "err", err)
		os.Exit(1)
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func run(logger *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c, err := codec.FromEnv()
	if err != nil {
		return err
	}
	var origins []string
	for _, o := range strings.Split(envOr("FENQI_CODEC_CORS_ORIGINS", "http://localhost:8233"), ",") {
		if o = strings.TrimSpace(o); o != "" {
			origins = append(origins, o)
		}
	}
	token := os.Getenv("FENQI_CODEC_TOKEN")
	srv := &http.Server{
		Addr:              envOr("FENQI_CODEC_ADDR", "127.0.0.1:8081"),
		Handler:           codec.NewServer(c, codec.Options{Token: token, Origins: origins}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	logger.Info("codec server listening", "addr", srv.Addr, "keys", c.KeyRing().IDs(), "active_key", c.KeyRing().Active(),
		"cors_origins", origins, "token_required", token != "")
	if token == "" {
		logger.Warn("FENQI_CODEC_TOKEN is not set: anyone who reaches " + srv.Addr + " can decode payloads; set it outside local development")
	}
	select {
	case err := <-errc:
		return fmt.Errorf("serve codec on %s: %w", srv.Addr, err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shut down codec server: %w", err)
	}
	return nil
}
