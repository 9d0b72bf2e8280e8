// Package store is fenqi's PostgreSQL persistence: typed rows and
// idempotent writes over a pgxpool.Pool, on the schema of package
// migrations (run migrations.Up before Open).
//
// Conventions:
//   - Every write is keyed by a business identity (request id, payment id,
//     contact key, idempotency key, (plan, version) ...). Repeating a write
//     with the same key and the same content returns the stored row and
//     writes nothing; the same key with different content is ErrConflict.
//   - Money is decimal.Decimal with at most 2 places (more is ErrInvalid,
//     never rounded silently); rates are decimal fractions (0.24 = 24%),
//     disclosed annualised rates are percentages (13.58 = 13.58%).
//   - Civil dates (due dates, start dates) are time.Time at midnight UTC;
//     instants are stored with microsecond precision.
//   - A zero uuid.UUID, an empty string or a zero time.Time in an optional
//     field means "none" (SQL NULL).
//   - Writes that matter append to audit_log in the same transaction.
//   - Errors name the operation and key and wrap a sentinel (ErrNotFound,
//     ErrConflict, ErrInvalid, ErrInsufficientFunds, ErrStateChanged,
//     ErrHashMismatch) and, when the database refused, the *pgconn.PgError.
package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/codec"
	"github.com/fenqi/fenqi/pii"
)

// Sentinel errors; test with errors.Is.
var (
	// ErrNotFound: the row asked for, or a row a write refers to, does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the key is already stored with different content.
	ErrConflict = errors.New("conflict: key already used with different content")
	// ErrInvalid: the input breaks a rule (negative amount, unknown enum,
	// more than 2 decimal places ...), whether checked here or by the database.
	ErrInvalid = errors.New("invalid input")
	// ErrInsufficientFunds: the gateway declined a debit larger than the balance.
	ErrInsufficientFunds = errors.New("insufficient funds")
	// ErrStateChanged: the row is not in the state the write expected
	// (plan state guard, schedule version out of sequence, superseded row ...).
	ErrStateChanged = errors.New("state changed")
	// ErrHashMismatch: a signature does not quote the agreement's hash.
	ErrHashMismatch = errors.New("signature does not quote the agreement hash")
)

// Store is the database handle. It is safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool
	// tx, when set, is the transaction every method runs in (see InTx).
	tx pgx.Tx
	// sealing seals and opens personal data; see seal.go.
	sealing *sealKeys
}

// sealKeys is the key ring personal data is sealed with (nil:
// DefaultKeyRing), resolved on first use into sealer or err; shared by a
// Store and the transaction-bound Stores InTx makes of it.
type sealKeys struct {
	ring   *codec.KeyRing
	once   sync.Once
	sealer *sealer
	err    error
}

// build is a store over pool with opts.
func build(pool *pgxpool.Pool, opts []Option) *Store {
	s := &Store{pool: pool, sealing: &sealKeys{}}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Open connects a pool to the database at url and checks it answers. The
// schema must already be migrated (migrations.Up). Personal data is
// sealed with the key ring of WithKeyRing, by default DefaultKeyRing (the
// codec key ring of the environment).
func Open(ctx context.Context, url string, opts ...Option) (*Store, error) {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open store: ping: %w", err)
	}
	return build(pool, opts), nil
}

// New wraps an existing pool; Close then closes it. Options as for Open.
func New(pool *pgxpool.Pool, opts ...Option) *Store { return build(pool, opts) }

// db is where a query outside a transaction of the method's own runs: the
// transaction of InTx, else the pool.
func (s *Store) db() querier {
	if s.tx != nil {
		return s.tx
	}
	return s.pool
}

// InTx runs fn with a Store whose every method runs in one transaction,
// committed when fn returns nil and rolled back otherwise; a transaction
// that hit a serialization failure, a deadlock or a lost insert race runs
// fn again from the start. One commit instead of one a method: an
// activity that makes several writes (an onboarding step makes 5 to 10)
// does them in one transaction, and its retry finds all or none of them.
//
// A method that fails inside InTx leaves its writes to the transaction:
// fn must return its error, which rolls everything back. The exception is
// a method whose error is an answer rather than a failure and says so
// (ActivatePlan's ErrCreditLine): it undoes its own writes first.
func (s *Store) InTx(ctx context.Context, fn func(*Store) error) error {
	if s.tx != nil {
		return fn(s)
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		bt := &bufferedTx{Tx: tx}
		if err := fn(&Store{pool: s.pool, tx: bt, sealing: s.sealing}); err != nil {
			return err
		}
		return bt.flushAudit(ctx)
	})
}

// Close closes the pool.
func (s *Store) Close() { s.pool.Close() }

// Pool returns the underlying pool, for queries the store does not offer.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// querier is what both the pool and a transaction offer.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// maxTxAttempts bounds the retries of a transaction that hit a
// serialization failure, a deadlock or a lost insert race.
const maxTxAttempts = 5

// errRetry asks inTx to run the transaction again (a concurrent writer
// inserted the same key first; the next run will find its row).
var errRetry = errors.New("retry transaction")

// inTx runs fn in a read-committed transaction, committing if fn returns
// nil. It retries on serialization failures, deadlocks and errRetry.
//
// Inside InTx it runs fn in InTx's transaction, once: the retry and the
// rollback are InTx's.
func (s *Store) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	if s.tx != nil {
		return fn(s.tx)
	}
	var err error
	for attempt := 1; attempt <= maxTxAttempts; attempt++ {
		err = pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{}, fn)
		if err == nil {
			return nil
		}
		code := pgCode(err)
		if !errors.Is(err, errRetry) && code != "40001" && code != "40P01" {
			return err
		}
		slog.DebugContext(ctx, "store: retrying transaction", "attempt", attempt, "err", err)
	}
	if errors.Is(err, errRetry) {
		return fmt.Errorf("%w: concurrent writers kept racing", ErrConflict)
	}
	return err
}

// savepointTx is inTx for a method whose error can be an answer that the
// caller goes on from: inside InTx, fn runs in a savepoint, so that its
// writes are undone when it fails, as they would be alone.
//
// The savepoint holds its audit entries back as InTx does, and writes them
// before it is released, so that a failure undoes them with the rest.
func (s *Store) savepointTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	if s.tx != nil {
		if err := flushAudit(ctx, s.tx); err != nil {
			return err
		}
		return pgx.BeginFunc(ctx, s.tx, func(tx pgx.Tx) error {
			bt := &bufferedTx{Tx: tx}
			if err := fn(bt); err != nil {
				return err
			}
			return bt.flushAudit(ctx)
		})
	}
	return s.inTx(ctx, fn)
}

// pgCode returns the SQLSTATE of a database error, or "".
func pgCode(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

// pgConstraint returns the constraint a database error names, or "".
func pgConstraint(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.ConstraintName
	}
	return ""
}

// classify maps a database refusal to the store's sentinels, keeping the
// original error in the chain: check/not-null -> ErrInvalid, foreign key ->
// ErrNotFound, unique -> ErrConflict, no rows -> ErrNotFound.
func classify(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	switch pgCode(err) {
	case "23514", "23502", "22P02", "22003", "22007", "22008":
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	case "23503":
		return fmt.Errorf("%w: referenced row: %w", ErrNotFound, err)
	case "23505":
		return fmt.Errorf("%w: %w", ErrConflict, err)
	}
	return err
}

// invalid returns an ErrInvalid error with a message.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// conflict returns an ErrConflict error saying what differs.
func conflict(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrConflict, fmt.Sprintf(format, args...))
}

// stateChanged returns an ErrStateChanged error with a message.
func stateChanged(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrStateChanged, fmt.Sprintf(format, args...))
}

// diff collects the names of fields that differ between a stored row and a
// repeated write.
type diff []string

func (d *diff) str(name, stored, given string) {
	if stored != given {
		*d = append(*d, fmt.Sprintf("%s %q (stored %q)", name, given, stored))
	}
}

// masked is str for a personal value: the message shows it masked.
func (d *diff) masked(name string, f pii.Field, stored, given string) {
	if stored != given {
		*d = append(*d, fmt.Sprintf("%s %q (stored %q)", name, pii.Masked(f, given), pii.Masked(f, stored)))
	}
}

func (d *diff) num(name string, stored, given int) {
	if stored != given {
		*d = append(*d, fmt.Sprintf("%s %d (stored %d)", name, given, stored))
	}
}

func (d *diff) dec(name string, stored, given decimal.Decimal) {
	if !stored.Equal(given) {
		*d = append(*d, fmt.Sprintf("%s %s (stored %s)", name, given, stored))
	}
}

func (d *diff) id(name string, stored, given uuid.UUID) {
	if stored != given {
		*d = append(*d, fmt.Sprintf("%s %s (stored %s)", name, given, stored))
	}
}

func (d *diff) time(name string, stored, given time.Time) {
	if !stored.Equal(given) {
		*d = append(*d, fmt.Sprintf("%s %s (stored %s)", name, given.Format(time.RFC3339Nano), stored.Format(time.RFC3339Nano)))
	}
}

func (d *diff) bool(name string, stored, given bool) {
	if stored != given {
		*d = append(*d, fmt.Sprintf("%s %t (stored %t)", name, given, stored))
	}
}

func (d *diff) json(name string, stored, given json.RawMessage) {
	if !jsonEqual(stored, given) {
		*d = append(*d, fmt.Sprintf("%s %s (stored %s)", name, given, stored))
	}
}

func (d *diff) strs(name string, stored, given []string) {
	if len(stored) != len(given) {
		*d = append(*d, fmt.Sprintf("%s %q (stored %q)", name, given, stored))
		return
	}
	for i := range stored {
		if stored[i] != given[i] {
			*d = append(*d, fmt.Sprintf("%s %q (stored %q)", name, given, stored))
			return
		}
	}
}

// err returns nil when nothing differs, else ErrConflict listing the fields.
func (d diff) err() error {
	if len(d) == 0 {
		return nil
	}
	return conflict("differs in %v", []string(d))
}

// jsonEqual compares two JSON documents by value (key order and spacing do
// not matter; nil and empty mean null).
func jsonEqual(a, b json.RawMessage) bool {
	va, errA := decodeJSON(a)
	vb, errB := decodeJSON(b)
	if errA != nil || errB != nil {
		return string(a) == string(b)
	}
	return reflect.DeepEqual(va, vb)
}

func decodeJSON(raw json.RawMessage) (any, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return normaliseNumbers(v), nil
}

// normaliseNumbers turns json.Number into a canonical decimal string so that
// 1, 1.0 and 1.00 compare equal.
func normaliseNumbers(v any) any {
	switch t := v.(type) {
	case json.Number:
		if d, err := decimal.NewFromString(t.String()); err == nil {
			return d.String()
		}
		return t.String()
	case map[string]any:
		for k, e := range t {
			t[k] = normaliseNumbers(e)
		}
		return t
	case []any:
		for i, e := range t {
			t[i] = normaliseNumbers(e)
		}
		return t
	}
	return v
}

// object returns raw, or {} when raw is empty; it rejects JSON that is not
// an object.
func object(name string, raw json.RawMessage) ([]byte, error) {
	if len(raw) == 0 {
		return []byte("{}"), nil
	}
	v, err := decodeJSON(raw)
	if err != nil {
		return nil, invalid("%s is not valid JSON: %v", name, err)
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, invalid("%s must be a JSON object, got %s", name, raw)
	}
	return raw, nil
}

// optionalJSON returns raw or nil (SQL NULL) when it is empty, rejecting
// invalid JSON.
func optionalJSON(name string, raw json.RawMessage) ([]byte, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	if !json.Valid(raw) {
		return nil, invalid("%s is not valid JSON", name)
	}
	return raw, nil
}

// money checks that d has at most 2 decimal places and is not negative (or
// is positive, when positive is set).
func money(name string, d decimal.Decimal, positive bool) error {
	if !d.Equal(d.Round(2)) {
		return invalid("%s %s has more than 2 decimal places", name, d)
	}
	if positive && !d.IsPositive() {
		return invalid("%s %s must be greater than 0", name, d)
	}
	if d.IsNegative() {
		return invalid("%s %s must not be negative", name, d)
	}
	return nil
}

// rates checks contract rates: fractions >= 0 with at most 6 places.
func rates(name string, annual, fee decimal.Decimal) error {
	for _, r := range []struct {
		name string
		d    decimal.Decimal
	}{{"annual rate", annual}, {"fee rate", fee}} {
		if !r.d.Equal(r.d.Round(6)) || r.d.IsNegative() {
			return invalid("%s %s %s must be a fraction >= 0 with at most 6 decimal places", name, r.name, r.d)
		}
	}
	return nil
}

// currencyOr returns c, or CNY when it is empty.
func currencyOr(c string) string {
	if c == "" {
		return "CNY"
	}
	return c
}

// orDefault returns s, or def when s is empty.
func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// instant truncates t to the database's microsecond precision.
func instant(t time.Time) time.Time { return t.Truncate(time.Microsecond) }

// civil returns t's calendar day as midnight UTC.
func civil(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// nullString is s, or SQL NULL when s is empty.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// nullUUID is id, or SQL NULL when id is zero.
func nullUUID(id uuid.UUID) any {
	if id == uuid.Nil {
		return nil
	}
	return id
}

// nullTime is t, or SQL NULL when t is zero.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return instant(t)
}

// nullInt is n, or SQL NULL when n is 0.
func nullInt(n int) any {
	if n == 0 {
		return nil
	}
	return n
}

// nullable scan targets that fold NULL into the zero value.
type (
	optString struct{ p *string }
	optUUID   struct{ p *uuid.UUID }
	optTime   struct{ p *time.Time }
	optInt    struct{ p *int }
)

// Scan implements sql.Scanner, reading NULL as the zero value of a string.
func (o optString) Scan(src any) error {
	if src == nil {
		*o.p = ""
		return nil
	}
	switch v := src.(type) {
	case string:
		*o.p = v
	case []byte:
		*o.p = string(v)
	default:
		return fmt.Errorf("scan %T into string", src)
	}
	return nil
}

// Scan implements sql.Scanner, reading NULL as the zero value of a uuid.
func (o optUUID) Scan(src any) error {
	if src == nil {
		*o.p = uuid.Nil
		return nil
	}
	return o.p.Scan(src)
}

// Scan implements sql.Scanner, reading NULL as the zero value of a time.
func (o optTime) Scan(src any) error {
	if src == nil {
		*o.p = time.Time{}
		return nil
	}
	t, ok := src.(time.Time)
	if !ok {
		return fmt.Errorf("scan %T into time", src)
	}
	*o.p = t
	return nil
}

// Scan implements sql.Scanner, reading NULL as the zero value of an int.
func (o optInt) Scan(src any) error {
	if src == nil {
		*o.p = 0
		return nil
	}
	switch v := src.(type) {
	case int64:
		*o.p = int(v)
	case int32:
		*o.p = int(v)
	default:
		return fmt.Errorf("scan %T into int", src)
	}
	return nil
}

// str, uid, tim and num wrap a pointer in a NULL-tolerant scan target.
func str(p *string) optString  { return optString{p} }
func uid(p *uuid.UUID) optUUID { return optUUID{p} }
func tim(p *time.Time) optTime { return optTime{p} }
func num(p *int) optInt        { return optInt{p} }
