package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Request statuses, as stored in requests.status.
const (
	RequestReceived  = "received"
	RequestAccepted  = "accepted"
	RequestRejected  = "rejected"
	RequestCompleted = "completed"
	RequestFailed    = "failed"
)

// FinalRequestStatus reports whether a request in status has its answer.
func FinalRequestStatus(status string) bool {
	return status == RequestRejected || status == RequestCompleted || status == RequestFailed
}

// Request is a message to a plan from a customer, an operator or the
// system, kept so that a repeated request id is answered from here.
type Request struct {
	// ID is assigned by the database.
	ID uuid.UUID
	// PlanID and RequestID are the key.
	PlanID    uuid.UUID
	RequestID string
	// Kind is what is asked (cancel, restructure, pause, early_repayment,
	// relief, complaint, negotiate, choose_offer, sign_agreement, ...).
	Kind string
	// Actor is customer, operator or system; ActorID who exactly.
	Actor, ActorID string
	// Payload (JSON) is the request body; PayloadHash the SHA-256 (hex) of
	// its canonical jsonb text, computed by the database.
	Payload     json.RawMessage
	PayloadHash string
	// Status is received, accepted, rejected, completed or failed; Result
	// (JSON) the answer given.
	Status string
	Result json.RawMessage
	// CreatedAt and UpdatedAt are set by the database; CompletedAt when the
	// request reached a final status.
	CreatedAt, UpdatedAt, CompletedAt time.Time
}

const requestColumns = `id, plan_id, request_id, kind, actor, actor_id, payload, payload_hash, status, result,
	created_at, updated_at, completed_at`

func requestTargets(r *Request) []any {
	return []any{&r.ID, &r.PlanID, &r.RequestID, &r.Kind, &r.Actor, &r.ActorID, &r.Payload, &r.PayloadHash,
		&r.Status, &r.Result, &r.CreatedAt, &r.UpdatedAt, tim(&r.CompletedAt)}
}

// SaveRequest stores a request keyed by (PlanID, RequestID) with status
// received and returns it with fresh = true. A repeat of the same request
// (same kind, actor and payload) returns the stored one, with whatever
// status and result it has reached, and fresh = false; a different request
// under the same id is ErrConflict.
func (s *Store) SaveRequest(ctx context.Context, r Request) (saved Request, fresh bool, err error) {
	fail := func(err error) (Request, bool, error) {
		return Request{}, false, fmt.Errorf("save request plan %s request %s: %w", r.PlanID, r.RequestID, err)
	}
	payload, err := requestPayload(r)
	if err != nil {
		return fail(err)
	}
	var out Request
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		fresh = false
		err := tx.QueryRow(ctx, `INSERT INTO requests (plan_id, request_id, kind, actor, actor_id, payload, payload_hash)
			VALUES ($1, $2, $3, $4, $5, $6::jsonb, encode(sha256(convert_to($6::jsonb::text, 'UTF8')), 'hex'))
			ON CONFLICT (plan_id, request_id) DO NOTHING
			RETURNING `+requestColumns,
			r.PlanID, r.RequestID, r.Kind, r.Actor, r.ActorID, payload).Scan(requestTargets(&out)...)
		if err == nil {
			fresh = true
			return audit(ctx, tx, r.PlanID, uuid.Nil, actorLabel(r.Actor, r.ActorID), "request.received", map[string]any{
				"request_id": r.RequestID, "kind": r.Kind, "payload_hash": out.PayloadHash})
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return classify(err)
		}
		var hash string
		if err := tx.QueryRow(ctx, `SELECT encode(sha256(convert_to($1::jsonb::text, 'UTF8')), 'hex')`, payload).
			Scan(&hash); err != nil {
			return classify(err)
		}
		if err := tx.QueryRow(ctx, `SELECT `+requestColumns+` FROM requests WHERE plan_id = $1 AND request_id = $2`,
			r.PlanID, r.RequestID).Scan(requestTargets(&out)...); err != nil {
			return classify(err)
		}
		var d diff
		d.str("kind", out.Kind, r.Kind)
		d.str("actor", out.Actor, r.Actor)
		d.str("actor id", out.ActorID, r.ActorID)
		d.str("payload hash", out.PayloadHash, hash)
		return d.err()
	})
	if err != nil {
		return fail(err)
	}
	return out, fresh, nil
}

// requestPayload checks r's id and payload and returns the payload to
// store ({} when empty).
func requestPayload(r Request) ([]byte, error) {
	if r.RequestID == "" {
		return nil, invalid("request id is required")
	}
	payload := []byte(r.Payload)
	if len(payload) == 0 {
		payload = []byte("{}")
	}
	if !json.Valid(payload) {
		return nil, invalid("payload is not valid JSON")
	}
	return payload, nil
}

// SaveAnsweredRequest stores a request with its answer, as SaveRequest
// then AnswerRequest do (the same row, the same audit entries), in one
// statement when the request is new. A repeat is checked and answered as
// those two check it.
func (s *Store) SaveAnsweredRequest(ctx context.Context, r Request, status string, result json.RawMessage) (Request, error) {
	fail := func(err error) (Request, error) {
		return Request{}, fmt.Errorf("save answered request plan %s request %s: %w", r.PlanID, r.RequestID, err)
	}
	payload, err := requestPayload(r)
	if err != nil {
		return fail(err)
	}
	res, err := optionalJSON("result", result)
	if err != nil {
		return fail(err)
	}
	var out Request
	fresh := false
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		fresh = false
		err := tx.QueryRow(ctx, `INSERT INTO requests (plan_id, request_id, kind, actor, actor_id, payload, payload_hash,
				status, result, completed_at)
			VALUES ($1, $2, $3, $4, $5, $6::jsonb, encode(sha256(convert_to($6::jsonb::text, 'UTF8')), 'hex'), $7::text, $8,
				CASE WHEN $7::text IN ('rejected', 'completed', 'failed') THEN now() END)
			ON CONFLICT (plan_id, request_id) DO NOTHING
			RETURNING `+requestColumns,
			r.PlanID, r.RequestID, r.Kind, r.Actor, r.ActorID, payload, status, res).Scan(requestTargets(&out)...)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // a repeat: checked below
		}
		if err != nil {
			return classify(err)
		}
		fresh = true
		if err := audit(ctx, tx, r.PlanID, uuid.Nil, actorLabel(r.Actor, r.ActorID), "request.received", map[string]any{
			"request_id": r.RequestID, "kind": r.Kind, "payload_hash": out.PayloadHash}); err != nil {
			return err
		}
		if status == RequestReceived {
			return nil
		}
		return audit(ctx, tx, r.PlanID, uuid.Nil, ActorSystem, "request."+status, map[string]any{
			"request_id": r.RequestID, "kind": r.Kind})
	})
	if err != nil {
		return fail(err)
	}
	if fresh {
		return out, nil
	}
	if _, _, err := s.SaveRequest(ctx, r); err != nil {
		return Request{}, err
	}
	return s.AnswerRequest(ctx, r.PlanID, r.RequestID, status, result)
}

// actorLabel is the audit actor of a request: "customer:<id>" etc.
func actorLabel(actor, id string) string {
	if actor == "" {
		return ActorSystem
	}
	if id == "" {
		return actor
	}
	return actor + ":" + id
}

// GetRequest returns request requestID of a plan.
func (s *Store) GetRequest(ctx context.Context, planID uuid.UUID, requestID string) (Request, error) {
	var r Request
	if err := s.db().QueryRow(ctx, `SELECT `+requestColumns+` FROM requests WHERE plan_id = $1 AND request_id = $2`,
		planID, requestID).Scan(requestTargets(&r)...); err != nil {
		return Request{}, fmt.Errorf("get request plan %s request %s: %w", planID, requestID, classify(err))
	}
	return r, nil
}

// AnswerRequest records the status a request reached and its result (JSON,
// may be empty). A final status (rejected, completed, failed) stamps
// CompletedAt and is the answer for good: repeating it with the same result
// is a no-op, changing it is ErrConflict. accepted may follow received.
func (s *Store) AnswerRequest(ctx context.Context, planID uuid.UUID, requestID, status string, result json.RawMessage) (Request, error) {
	fail := func(err error) (Request, error) {
		return Request{}, fmt.Errorf("answer request plan %s request %s %s: %w", planID, requestID, status, err)
	}
	res, err := optionalJSON("result", result)
	if err != nil {
		return fail(err)
	}
	var out Request
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		var cur Request
		if err := tx.QueryRow(ctx, `SELECT `+requestColumns+` FROM requests WHERE plan_id = $1 AND request_id = $2 FOR UPDATE`,
			planID, requestID).Scan(requestTargets(&cur)...); err != nil {
			return classify(err)
		}
		if FinalRequestStatus(cur.Status) {
			out = cur
			var d diff
			d.str("status", cur.Status, status)
			d.json("result", cur.Result, res)
			return d.err()
		}
		if status == RequestReceived || (status == cur.Status && jsonEqual(cur.Result, res)) {
			out = cur
			return nil
		}
		if err := tx.QueryRow(ctx, `UPDATE requests SET status = $3::text, result = $4, updated_at = now(),
				completed_at = CASE WHEN $3::text IN ('rejected', 'completed', 'failed') THEN now() END
			WHERE plan_id = $1 AND request_id = $2 RETURNING `+requestColumns,
			planID, requestID, status, res).Scan(requestTargets(&out)...); err != nil {
			return classify(err)
		}
		return audit(ctx, tx, planID, uuid.Nil, ActorSystem, "request."+status, map[string]any{
			"request_id": requestID, "kind": cur.Kind})
	})
	if err != nil {
		return fail(err)
	}
	return out, nil
}
