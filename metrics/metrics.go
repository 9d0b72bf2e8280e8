// Package metrics is fenqi's Prometheus instrumentation: one registry per
// process (the worker's or the API's), served at /metrics, holding
//
//   - the Temporal SDK's metrics (temporal_*: requests, polls, task and
//     activity latencies, ...), through the SDK's OpenTelemetry metrics
//     handler and the OpenTelemetry Prometheus exporter (Temporal);
//   - fenqi's own: plans by state, read from PostgreSQL when scraped
//     (WatchPlans), debits by outcome and the money collected (Debit,
//     Payment: the activities' observer), customer contacts by channel and
//     outcome (Contact: the outbox dispatcher's observer), and the API's
//     requests by route and status (Request: the API's recorder);
//   - the Go runtime's and the process's.
//
// Label values come from fenqi's code (outcomes, channels, plan states,
// route patterns), never from ids or personal data; each label is cleaned
// (Label) and capped at a bounded number of distinct values, beyond which
// new values are counted as "other".
package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/otlptranslator"
	"github.com/shopspring/decimal"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
)

// EnvAddr names the variable with the address the worker and the API
// serve /metrics on.
const EnvAddr = "FENQI_METRICS_ADDR"

// EnvPprof, set to 1, adds Go's profiles (/debug/pprof/) beside /metrics,
// for measuring where a process spends its time. Off by default: a
// profile shows internals to whoever reaches the port.
const EnvPprof = "FENQI_PPROF"

// Default addresses of /metrics (loopback: expose them deliberately).
const (
	DefaultWorkerAddr = "127.0.0.1:9464"
	DefaultAPIAddr    = "127.0.0.1:9465"
)

// Bounds of the labels.
const (
	// MaxLabelLen is the longest label value kept (in bytes, cut at a
	// rune boundary).
	MaxLabelLen = 64
	// MaxLabelValues is how many distinct values one label of one metric
	// takes; later new values are recorded as Other.
	MaxLabelValues = 50
	// Other stands for the values beyond MaxLabelValues.
	Other = "other"
	// Unknown stands for an empty value.
	Unknown = "unknown"
)

// Debit outcomes (those of activities.CollectResult that moved money or
// were refused by the gateway).
const (
	DebitSucceeded         = "succeeded"
	DebitInsufficientFunds = "insufficient_funds"
)

// PlanStates are the states of the plans table (its CHECK constraint):
// each is exported, with 0 when no plan is in it, so a state that empties
// shows 0 rather than vanishing.
var PlanStates = []string{"assessing", "review", "offered", "signing", "active", "closed", "declined", "expired", "withdrawn", "written_off"}

// PlanQueryTimeout bounds the plans-by-state query of one scrape.
const PlanQueryTimeout = 3 * time.Second

// requestBuckets are the API's latency buckets (seconds), up to its 30 s
// request timeout.
var requestBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// temporalBuckets are the Temporal SDK's latency buckets (seconds): its
// timers run from sub-millisecond requests to long polls (about 70 s).
var temporalBuckets = []float64{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120}

// Metrics is one process's registry and fenqi's instruments. Its methods
// may be called from any goroutine; a nil *Metrics records nothing.
type Metrics struct {
	// Registry holds every metric of the process.
	Registry *prometheus.Registry
	// Temporal is the Temporal SDK's metrics handler, for
	// client.Options.MetricsHandler; it reports into Registry.
	Temporal client.MetricsHandler

	provider *sdkmetric.MeterProvider
	log      *slog.Logger

	debits         *prometheus.CounterVec
	collected      prometheus.Counter
	contacts       *prometheus.CounterVec
	requests       *prometheus.CounterVec
	requestSeconds *prometheus.HistogramVec

	debitOutcome, contactChannel, contactOutcome, route, code *bounded
}

// New returns a fresh registry for service ("worker", "api"; the
// service.name of the target_info metric) with the Temporal SDK's handler
// and fenqi's instruments registered.
func New(service string) (*Metrics, error) {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		log:      slog.Default().With("component", "metrics"),
		debits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fenqi_debits_total",
			Help: "Auto-debits through the payment gateway, by outcome (succeeded, insufficient_funds); each debit attempt counted once.",
		}, []string{"outcome"}),
		collected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fenqi_collected_amount_total",
			Help: "Money collected from customers (auto-debits and payments from outside), in the plans' currency (CNY). A float: for monitoring only; the books are in PostgreSQL.",
		}),
		contacts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fenqi_contacts_total",
			Help: "Customer contacts the outbox dispatcher finished or put back, by channel and outcome (sent, delivered, failed, cancelled, retried).",
		}, []string{"channel", "outcome"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fenqi_api_requests_total",
			Help: "HTTP API requests by route pattern and status code.",
		}, []string{"route", "code"}),
		requestSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "fenqi_api_request_seconds",
			Help:    "HTTP API request duration by route pattern.",
			Buckets: requestBuckets,
		}, []string{"route"}),
		debitOutcome:   newBounded(MaxLabelValues),
		contactChannel: newBounded(MaxLabelValues),
		contactOutcome: newBounded(MaxLabelValues),
		route:          newBounded(MaxLabelValues),
		code:           newBounded(MaxLabelValues),
	}
	for _, c := range []prometheus.Collector{
		m.debits, m.collected, m.contacts, m.requests, m.requestSeconds,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: register: %w", err)
		}
	}
	// The outcomes known up front are exported at 0 from the start, so
	// that rate() and alerts see them before the first debit.
	for _, o := range []string{DebitSucceeded, DebitInsufficientFunds} {
		m.debits.WithLabelValues(m.debitOutcome.value(o))
	}

	exporter, err := otelprom.New(
		otelprom.WithRegisterer(reg),
		otelprom.WithTranslationStrategy(otlptranslator.UnderscoreEscapingWithSuffixes),
		otelprom.WithoutScopeInfo(),
	)
	if err != nil {
		return nil, fmt.Errorf("metrics: prometheus exporter: %w", err)
	}
	m.provider = sdkmetric.NewMeterProvider(
		sdkmetric.WithReader(exporter),
		sdkmetric.WithResource(resource.NewSchemaless(attribute.String("service.name", "fenqi-"+Label(service)))),
		sdkmetric.WithView(sdkmetric.NewView(
			sdkmetric.Instrument{Kind: sdkmetric.InstrumentKindHistogram},
			sdkmetric.Stream{Aggregation: sdkmetric.AggregationExplicitBucketHistogram{Boundaries: temporalBuckets}},
		)),
	)
	m.Temporal = temporalotel.NewMetricsHandler(temporalotel.MetricsHandlerOptions{
		Meter:                m.provider.Meter("temporal-sdk-go"),
		UseMonotonicCounters: true,
		// The default panics; a metric that cannot be made is not worth
		// stopping a worker for.
		OnError: func(err error) { m.log.Warn("temporal sdk metric", "err", err) },
	})
	return m, nil
}

// Handler serves the registry in the Prometheus text (or OpenMetrics)
// format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{
		Registry:          m.Registry,
		ErrorHandling:     promhttp.ContinueOnError,
		ErrorLog:          slogPrinter{m.log},
		EnableOpenMetrics: true,
	})
}

// Shutdown flushes and stops the Temporal SDK's meter provider.
func (m *Metrics) Shutdown(ctx context.Context) error {
	if m == nil || m.provider == nil {
		return nil
	}
	return m.provider.Shutdown(ctx)
}

// Debit counts one debit attempt with its outcome; a succeeded one adds
// amount to the money collected. (activities.Observer)
func (m *Metrics) Debit(outcome string, amount decimal.Decimal) {
	if m == nil {
		return
	}
	outcome = m.debitOutcome.value(outcome)
	m.debits.WithLabelValues(outcome).Inc()
	if outcome == DebitSucceeded {
		m.addCollected(amount)
	}
}

// Payment adds a payment from outside auto-debit to the money collected.
// (activities.Observer)
func (m *Metrics) Payment(amount decimal.Decimal) {
	if m == nil {
		return
	}
	m.addCollected(amount)
}

func (m *Metrics) addCollected(amount decimal.Decimal) {
	// A counter only goes up; a refund is not a collection.
	if amount.IsPositive() {
		m.collected.Add(amount.InexactFloat64())
	}
}

// Contact counts one customer contact the outbox dispatcher is done with
// (or put back for a retry). (outbox.Observer)
func (m *Metrics) Contact(channel, outcome string) {
	if m == nil {
		return
	}
	m.contacts.WithLabelValues(m.contactChannel.value(channel), m.contactOutcome.value(outcome)).Inc()
}

// Request records one API request: route is the route's pattern ("POST
// /v1/plans/{id}/sign"), never the path with its ids. (api.Recorder)
func (m *Metrics) Request(route string, code int, d time.Duration) {
	if m == nil {
		return
	}
	r := m.route.value(route)
	m.requests.WithLabelValues(r, m.code.value(strconv.Itoa(code))).Inc()
	m.requestSeconds.WithLabelValues(r).Observe(d.Seconds())
}

// PlanCounter returns the number of plans in each state.
type PlanCounter func(ctx context.Context) (map[string]int64, error)

// WatchPlans exports fenqi_plans{state}, counted by count at each scrape
// (bounded by PlanQueryTimeout), and fenqi_plans_query_ok (1 when the
// last count succeeded, 0 when it failed; the plans are then left out).
func (m *Metrics) WatchPlans(count PlanCounter) error {
	return m.Registry.Register(&plansCollector{count: count, log: m.log, states: newBounded(MaxLabelValues)})
}

var (
	plansDesc = prometheus.NewDesc("fenqi_plans",
		"Plans by state, counted in PostgreSQL when scraped.", []string{"state"}, nil)
	plansOKDesc = prometheus.NewDesc("fenqi_plans_query_ok",
		"1 when the scrape counted the plans by state in PostgreSQL, 0 when the query failed.", nil, nil)
)

type plansCollector struct {
	count  PlanCounter
	log    *slog.Logger
	states *bounded
}

func (c *plansCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- plansDesc
	ch <- plansOKDesc
}

func (c *plansCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), PlanQueryTimeout)
	defer cancel()
	counts, err := c.count(ctx)
	if err != nil {
		c.log.Warn("count plans by state", "err", err)
		ch <- prometheus.MustNewConstMetric(plansOKDesc, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(plansOKDesc, prometheus.GaugeValue, 1)
	byState := map[string]float64{}
	for _, s := range PlanStates {
		byState[s] = 0
	}
	for s, n := range counts {
		byState[c.states.value(s)] += float64(n)
	}
	for s, n := range byState {
		ch <- prometheus.MustNewConstMetric(plansDesc, prometheus.GaugeValue, n, s)
	}
}

// Label cleans a label value: valid UTF-8, trimmed, at most MaxLabelLen
// bytes, Unknown when empty.
func Label(s string) string {
	s = strings.TrimSpace(strings.ToValidUTF8(s, "?"))
	if len(s) > MaxLabelLen {
		cut := MaxLabelLen
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	if s == "" {
		return Unknown
	}
	return s
}

// bounded admits up to max distinct label values; later new ones are
// Other.
type bounded struct {
	mu   sync.Mutex
	max  int
	seen map[string]bool
}

func newBounded(max int) *bounded { return &bounded{max: max, seen: map[string]bool{}} }

func (b *bounded) value(s string) string {
	s = Label(s)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.seen[s] {
		return s
	}
	if len(b.seen) >= b.max {
		return Other
	}
	b.seen[s] = true
	return s
}

// Serve listens on addr now (so a taken or malformed address is an error
// at start) and serves the registry at /metrics until ctx ends. It
// returns the address it listens on.
func (m *Metrics) Serve(ctx context.Context, addr string) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: listen on %s (%s): %w", addr, EnvAddr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	if os.Getenv(EnvPprof) == "1" {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.log.Error("metrics server stopped", "addr", ln.Addr().String(), "err", err)
		}
	}()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	return ln.Addr(), nil
}

// slogPrinter is promhttp's error log.
type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Println(v ...any) { p.log.Warn("metrics scrape", "err", fmt.Sprint(v...)) }
