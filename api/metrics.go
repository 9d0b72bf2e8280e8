package api

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/fenqi/fenqi/plan"
)

// Recorder is told of every request the API answered: the route's pattern
// ("POST /v1/plans/{id}/sign"; Unmatched when no route matched), never the
// path with its ids, the status code and how long it took. The metrics
// package's *Metrics is one.
type Recorder interface {
	Request(route string, code int, d time.Duration)
}

// Unmatched is the route of a request no route matched (answered 404).
const Unmatched = "unmatched"

// WithRecorder makes the server tell rec of every request.
func WithRecorder(rec Recorder) Option {
	return func(s *Server) { s.recorder = rec }
}

// ServeHTTP makes Server an http.Handler: it answers the request (serve),
// then records it (WithRecorder) and logs it: method, route, status,
// duration and the plan's id when the route names one; never the
// query, the body or the Authorization header. GET /healthz is logged at
// debug level only.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	route := s.routeOf(r)
	sw := &statusWriter{ResponseWriter: w}
	s.serve(sw, r)
	elapsed := time.Since(start)
	status := sw.status
	if status == 0 {
		status = http.StatusOK
	}
	if s.recorder != nil {
		s.recorder.Request(route, status, elapsed)
	}
	level := slog.LevelInfo
	if r.URL.Path == "/healthz" {
		level = slog.LevelDebug
	}
	s.log.LogAttrs(r.Context(), level, "api request",
		slog.String("method", r.Method), slog.String("route", route), slog.Int("status", status),
		slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000), planAttr(pathValue(route, r.URL.Path, "id")))
}

// routeOf is the pattern of the route that serves r (Unmatched for none).
func (s *Server) routeOf(r *http.Request) string {
	_, pattern := s.mux.Handler(r)
	if pattern == "" || pattern == "/" {
		return Unmatched
	}
	return pattern
}

// pathValue is the segment of path at the wildcard {name} of pattern
// ("GET /v1/plans/{id}"), "" if pattern has none or path does not fit.
func pathValue(pattern, path, name string) string {
	if _, p, ok := strings.Cut(pattern, " "); ok {
		pattern = p
	}
	ps, segs := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(ps) != len(segs) {
		return ""
	}
	for i, p := range ps {
		if p == "{"+name+"}" {
			return segs[i]
		}
	}
	return ""
}

// planAttr is the plan_id attribute of a log line: the id when it is a
// plan's id, else nothing (a malformed id from a path is not logged).
func planAttr(id string) slog.Attr {
	if id == "" {
		return slog.Attr{}
	}
	if _, err := plan.ParseID(id); err != nil {
		return slog.Attr{}
	}
	return slog.String("plan_id", id)
}

// statusWriter remembers the status code written.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
