package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/fenqi/fenqi/frontdoor"
	"github.com/fenqi/fenqi/plan"
)

// Access control. Every route but GET /healthz needs an
// "Authorization: Bearer <token>" header with a configured token; without
// one, or with a token that is not configured, the answer is 401
// unauthorized with a WWW-Authenticate: Bearer header.
//
// An operator token may do everything. A customer token may apply only
// for its own customer ref (the application's customer.ref) and act only
// on plans of that customer; anything else is 403 forbidden. A customer
// asking about a plan that is not theirs gets the same 403 whether the
// plan exists or not, so that a customer cannot learn which plan ids
// exist. The operator actions (review decision, waiver, approvals,
// complaint resolution, referral, write-off, grace) and the recording of a
// payment (an assertion that money arrived, which only the lender's side
// may make) are 403 to customers. An operator action whose body names no
// operator is recorded under the token's operator name; one that names
// another operator is 403.

// The environment variables cmd/api reads the tokens from.
const (
	// EnvOperatorTokens holds comma-separated name:token pairs; the name
	// is the operator recorded on decisions.
	EnvOperatorTokens = "FENQI_OPERATOR_TOKENS"
	// EnvCustomerTokens holds comma-separated customerRef:token pairs; the
	// ref is the customer's ref as in an application's customer.ref.
	EnvCustomerTokens = "FENQI_CUSTOMER_TOKENS"
)

// MinTokenLength is the shortest token accepted.
const MinTokenLength = 16

// Role is what a token may do.
type Role string

// The roles.
const (
	RoleOperator Role = "operator"
	RoleCustomer Role = "customer"
)

// Caller is who sent a request.
type Caller struct {
	Role Role
	// Operator is an operator's name; empty for a customer, and for every
	// request of a server built WithoutAuth.
	Operator string
	// CustomerRef and CustomerID (plan.CustomerIDFromRef of the ref) are a
	// customer's.
	CustomerRef string
	CustomerID  uuid.UUID
}

// Tokens is the API's list of bearer tokens. Only their SHA-256 sums are
// kept, and a token is looked up in constant time.
type Tokens struct {
	entries   []tokenEntry
	operators int
	customers int
}

type tokenEntry struct {
	sum    [sha256.Size]byte
	caller Caller
}

// NewTokens parses the tokens as configured in EnvOperatorTokens
// (operators: comma-separated name:token) and EnvCustomerTokens
// (customers: comma-separated customerRef:token). The token is what
// follows an entry's last colon, so tokens cannot hold a colon (nor a
// comma); they are made of the characters of RFC 6750 bearer tokens
// (letters, digits and - . _ ~ + / with trailing =) and at least
// MinTokenLength long. Blank input gives no tokens. An entry that is
// empty, has no colon, an empty name or token, or repeats another entry's
// token is an error naming the variable and the entry's index (from 1);
// the error never repeats the entry, which may hold a token.
func NewTokens(operators, customers string) (*Tokens, error) {
	t := &Tokens{}
	seen := map[[sha256.Size]byte]string{}
	for _, list := range []struct {
		env, raw, what string
		role           Role
	}{
		{EnvOperatorTokens, operators, "operator name", RoleOperator},
		{EnvCustomerTokens, customers, "customer ref", RoleCustomer},
	} {
		if strings.TrimSpace(list.raw) == "" {
			continue
		}
		for i, entry := range strings.Split(list.raw, ",") {
			where := fmt.Sprintf("%s entry %d", list.env, i+1)
			entry = strings.TrimSpace(entry)
			colon := strings.LastIndexByte(entry, ':')
			if entry == "" || colon < 0 {
				return nil, fmt.Errorf("%s: want %s:token", where, strings.ReplaceAll(list.what, " ", "-"))
			}
			name, token := strings.TrimSpace(entry[:colon]), strings.TrimSpace(entry[colon+1:])
			switch {
			case name == "":
				return nil, fmt.Errorf("%s: the %s is empty", where, list.what)
			case len(name) > 200 || !utf8.ValidString(name):
				return nil, fmt.Errorf("%s: the %s is longer than 200 bytes or not UTF-8", where, list.what)
			case token == "":
				return nil, fmt.Errorf("%s: the token is empty", where)
			case !validToken(token):
				return nil, fmt.Errorf("%s: the token holds characters a bearer token cannot (use letters, digits and - . _ ~ + /)", where)
			case len(token) < MinTokenLength:
				return nil, fmt.Errorf("%s: the token is shorter than %d characters", where, MinTokenLength)
			}
			sum := sha256.Sum256([]byte(token))
			if first, dup := seen[sum]; dup {
				return nil, fmt.Errorf("%s: the same token as %s; every token must be different", where, first)
			}
			seen[sum] = where
			c := Caller{Role: list.role}
			if list.role == RoleOperator {
				c.Operator = name
				t.operators++
			} else {
				c.CustomerRef, c.CustomerID = name, plan.CustomerIDFromRef(name)
				t.customers++
			}
			t.entries = append(t.entries, tokenEntry{sum: sum, caller: c})
		}
	}
	return t, nil
}

// validToken reports whether s is an RFC 6750 b64token.
func validToken(s string) bool {
	body := strings.TrimRight(s, "=")
	if body == "" {
		return false
	}
	for _, r := range body {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("-._~+/", r):
		default:
			return false
		}
	}
	return true
}

// Len is the number of tokens.
func (t *Tokens) Len() int {
	if t == nil {
		return 0
	}
	return len(t.entries)
}

// Operators and Customers count the tokens of each role.
func (t *Tokens) Operators() int {
	if t == nil {
		return 0
	}
	return t.operators
}

// Customers counts the customer tokens.
func (t *Tokens) Customers() int {
	if t == nil {
		return 0
	}
	return t.customers
}

// lookup finds the caller of token. It compares the token's SHA-256 sum
// with every entry's, without stopping at a match, so that its time says
// nothing about the tokens.
func (t *Tokens) lookup(token string) (Caller, bool) {
	if t == nil {
		return Caller{}, false
	}
	sum := sha256.Sum256([]byte(token))
	found := -1
	for i := range t.entries {
		if subtle.ConstantTimeCompare(sum[:], t.entries[i].sum[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return Caller{}, false
	}
	return t.entries[found].caller, true
}

// Option configures a Server.
type Option func(*Server)

// WithTokens makes the server accept tokens. A server without tokens (and
// not WithoutAuth) answers every request but GET /healthz 401.
func WithTokens(t *Tokens) Option {
	return func(s *Server) { s.tokens = t }
}

// WithoutAuth turns access control off: every request is an operator's,
// without a name (an operator action must name its operator in the body).
// For a development machine only.
func WithoutAuth() Option {
	return func(s *Server) { s.insecure = true }
}

type callerKey struct{}

// CallerFrom returns the caller of a request the server has authenticated.
func CallerFrom(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}

// authenticate finds the request's caller from its bearer token, or
// answers 401.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (Caller, bool) {
	if s.insecure {
		return Caller{Role: RoleOperator}, true
	}
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	scheme, token, _ := strings.Cut(h, " ")
	token = strings.TrimSpace(token)
	if h == "" || !strings.EqualFold(scheme, "Bearer") || token == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="fenqi"`)
		writeError(w, http.StatusUnauthorized, "unauthorized", "this API needs an Authorization: Bearer <token> header")
		return Caller{}, false
	}
	c, ok := s.tokens.lookup(token)
	if !ok {
		s.log.Info("api request with an unknown token", "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr)
		w.Header().Set("WWW-Authenticate", `Bearer realm="fenqi", error="invalid_token"`)
		writeError(w, http.StatusUnauthorized, "unauthorized", "the bearer token is not valid")
		return Caller{}, false
	}
	return c, true
}

// access is who may use a route.
type access int

const (
	// ownPlan: operators, and customers on their own plans.
	ownPlan access = iota
	// operatorsOnly: operators.
	operatorsOnly
	// applicants: operators, and customers applying for themselves (the
	// handler checks the application's customer ref).
	applicants
)

// route registers h for pattern, for the callers a allows.
func (s *Server) route(pattern string, a access, h http.HandlerFunc) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		c, _ := CallerFrom(r.Context())
		switch {
		case c.Role == RoleOperator:
		case a == operatorsOnly:
			s.forbid(w, r, c, "this action needs an operator token")
			return
		case a == ownPlan && !s.ownsPlan(w, r, c):
			return
		}
		h(w, r)
	})
}

// forbid answers 403.
func (s *Server) forbid(w http.ResponseWriter, r *http.Request, c Caller, msg string) {
	who := c.Operator
	if c.Role == RoleCustomer {
		who = c.CustomerID.String()
	}
	s.log.Warn("api request forbidden", "method", r.Method, "route", r.Pattern, planAttr(r.PathValue("id")), "role", string(c.Role), "caller", who)
	writeError(w, http.StatusForbidden, "forbidden", msg)
}

// ownsPlan checks the path's plan is the customer's, or answers: 400 for a
// malformed plan id, 403 for a plan that is someone else's or does not
// exist (the same answer, so that a customer cannot probe plan ids), the
// front door's error when the plan cannot be read.
func (s *Server) ownsPlan(w http.ResponseWriter, r *http.Request, c Caller) bool {
	raw := r.PathValue("id")
	id, err := plan.ParseID(raw)
	if err != nil {
		s.fail(w, r, &plan.ValidationError{Field: "plan", Reason: err.Error()})
		return false
	}
	owner, err := s.planCustomer(r.Context(), id)
	if err != nil && !errors.Is(err, frontdoor.ErrNotFound) {
		s.fail(w, r, err)
		return false
	}
	if err != nil || owner != c.CustomerID {
		s.forbid(w, r, c, fmt.Sprintf("plan %s is not one of this customer's plans", raw))
		return false
	}
	return true
}

// planCustomer returns the customer of plan id, from the plan's status
// the first time, then from a cache (a plan's customer never changes).
func (s *Server) planCustomer(ctx context.Context, id uuid.UUID) (uuid.UUID, error) {
	if c, ok := s.owners.get(id); ok {
		return c, nil
	}
	st, err := s.door.Status(ctx, id.String())
	if err != nil {
		return uuid.Nil, err
	}
	c, err := uuid.Parse(st.CustomerID)
	if err != nil {
		return uuid.Nil, fmt.Errorf("plan %s: customer id %q: %w", id, st.CustomerID, err)
	}
	s.owners.put(id, c)
	return c, nil
}

// ownerCache maps plan ids to their customer ids; it forgets everything
// when it is full.
type ownerCache struct {
	mu sync.Mutex
	m  map[uuid.UUID]uuid.UUID
}

const ownerCacheSize = 10000

func (o *ownerCache) get(id uuid.UUID) (uuid.UUID, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	c, ok := o.m[id]
	return c, ok
}

func (o *ownerCache) put(id, customer uuid.UUID) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.m == nil || len(o.m) >= ownerCacheSize {
		o.m = make(map[uuid.UUID]uuid.UUID)
	}
	o.m[id] = customer
}

// mayApply checks a customer applies for themselves, or answers 403.
func (s *Server) mayApply(w http.ResponseWriter, r *http.Request, app plan.Application) bool {
	c, _ := CallerFrom(r.Context())
	if c.Role == RoleCustomer && app.Customer.Ref != c.CustomerRef {
		s.forbid(w, r, c, "customer.ref: a customer token applies only for its own customer ref")
		return false
	}
	if c.Role == RoleCustomer && (app.Origin.Kind != "" && app.Origin.Kind != "own" || app.Origin.Partner != "" ||
		!app.Origin.PartnerFeeRate.IsZero() || app.Origin.PartnerFeePolicy != "") {
		// A partner's terms go into the agreement and the partner's
		// commission: only the lender's systems (an operator token) name a
		// partner.
		s.forbid(w, r, c, "origin: a customer token applies through the lender's own channel only")
		return false
	}
	return true
}

// operatorField is the operator named in an operator's request, nil for
// the other requests.
func operatorField(req any) *string {
	switch p := req.(type) {
	case *plan.ReviewDecision:
		return &p.Operator
	case *plan.WaiveRequest:
		return &p.Operator
	case *plan.ApprovalDecision:
		return &p.Operator
	case *plan.ResolveRequest:
		return &p.Operator
	case *plan.ReferralRequest:
		return &p.Operator
	case *plan.WriteOffRequest:
		return &p.Operator
	case *plan.GraceRequest:
		return &p.Operator
	}
	return nil
}

// actAs records the token's operator on an operator's request whose body
// names none, and answers 403 when the body names another operator (or
// when a customer names one). Without access control the body's operator
// stands as given.
func actAs[R plan.Request](s *Server, w http.ResponseWriter, r *http.Request, req *R) bool {
	field := operatorField(req)
	if field == nil {
		return true
	}
	c, _ := CallerFrom(r.Context())
	switch {
	case c.Role == RoleCustomer && *field != "":
		s.forbid(w, r, c, "operator: a customer token cannot act as an operator")
		return false
	case c.Role != RoleOperator || c.Operator == "":
	case *field == "":
		*field = c.Operator
	case *field != c.Operator:
		s.forbid(w, r, c, fmt.Sprintf("operator: this token is operator %q's; it cannot act as %q", c.Operator, *field))
		return false
	}
	return true
}
