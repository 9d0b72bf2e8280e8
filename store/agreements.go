package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/fenqi/fenqi/pii"
)

// Agreement statuses.
const (
	AgreementPending    = "pending"
	AgreementSigned     = "signed"
	AgreementExpired    = "expired"
	AgreementSuperseded = "superseded"
)

// Agreement is a rendered agreement of a plan, archived with the SHA-256 of
// its text. Document and hash never change once stored. The database keeps
// the text sealed and only a keyed hash of the SHA-256 (see
// agreementHash): the plain SHA-256 of a text that differs between
// borrowers by the name alone would reveal the name.
type Agreement struct {
	// ID is assigned by the database.
	ID uuid.UUID
	// PlanID and Version (>= 1) are the business key.
	PlanID  uuid.UUID
	Version int
	// OfferID is the offer the agreement renders (zero: none).
	OfferID uuid.UUID
	// Document is the full text; SHA256 its lower-case hex SHA-256 (of the
	// UTF-8 bytes), computed by SaveAgreement and, on read, from the opened
	// text (checked against the stored keyed hash).
	Document string
	SHA256   string
	// Status is pending, signed, expired or superseded.
	Status string
	// ExpiresAt is when an unsigned agreement lapses (zero: never).
	ExpiresAt time.Time
	// Signature is nil until signed.
	Signature *Signature
	// CreatedAt is set by the database.
	CreatedAt time.Time
}

// Signature is the customer's signature of an agreement.
type Signature struct {
	// Kind is electronic or paper; a paper signature is recorded by its
	// PaperReference.
	Kind           string
	SignerName     string
	PaperReference string
	// Consent must be true: the customer read and accepted the terms.
	Consent bool
	// SignedHash is the document hash the signer saw; it must equal the
	// agreement's SHA256 (stored, like it, as a keyed hash).
	SignedHash string
	// SignedAt is when it was signed (default: now).
	SignedAt time.Time
	// Meta (JSON object): channel, device, IP ... of an electronic signature.
	Meta json.RawMessage
}

// DocumentHash returns the lower-case hex SHA-256 of an agreement text,
// the Agreement's SHA256 (agreements.sha256 stores a keyed hash of it).
func DocumentHash(document string) string {
	sum := sha256.Sum256([]byte(document))
	return hex.EncodeToString(sum[:])
}

const agreementColumns = `id, plan_id, version, offer_id, document, sha256, status, expires_at, signed_at,
	signature_kind, signer_name, paper_reference, consent, signed_hash, signature_meta, created_at`

// storedAgreement is how an agreement row keeps its hash.
type storedAgreement struct {
	// hash is agreements.sha256: keyed ("hmac:v1:..."), or a plain
	// SHA-256 written before migration 009.
	hash string
	// sealed: the document is stored sealed.
	sealed bool
}

// legacy reports whether the row still keeps a plain SHA-256 of a sealed
// text (RehashAgreements and SignAgreement replace it by a keyed hash).
func (r storedAgreement) legacy() bool { return r.sealed && !isKeyedHash(r.hash) }

// scanAgreement scans an agreement row, opens its sealed text and signer
// name, and checks the stored hashes against the text.
func (s *Store) scanAgreement(row pgx.Row) (Agreement, error) {
	a, _, err := s.scanStoredAgreement(row)
	return a, err
}

// scanStoredAgreement is scanAgreement, also returning how the row keeps
// its hash.
func (s *Store) scanStoredAgreement(row pgx.Row) (Agreement, storedAgreement, error) {
	var (
		a          Agreement
		sig        Signature
		st         storedAgreement
		signedHash string
	)
	err := row.Scan(&a.ID, &a.PlanID, &a.Version, uid(&a.OfferID), &a.Document, &st.hash, &a.Status,
		tim(&a.ExpiresAt), tim(&sig.SignedAt), str(&sig.Kind), str(&sig.SignerName), str(&sig.PaperReference),
		&sig.Consent, str(&signedHash), &sig.Meta, &a.CreatedAt)
	if err != nil {
		return Agreement{}, storedAgreement{}, err
	}
	fail := func(err error) (Agreement, storedAgreement, error) {
		return Agreement{}, storedAgreement{}, fmt.Errorf("agreement plan %s v%d: %w", a.PlanID, a.Version, err)
	}
	st.sealed = isSealed(a.Document)
	if a.Document, err = s.open("agreements.document", a.Document); err != nil {
		return fail(err)
	}
	if sig.SignerName, err = s.open("agreements.signer_name", sig.SignerName); err != nil {
		return fail(err)
	}
	// The database keeps a keyed hash: the plain SHA-256 is that of the
	// opened text, provided the stored hash is its hash.
	a.SHA256 = DocumentHash(a.Document)
	if ok, err := s.hashMatches(st.hash, a.SHA256); err != nil {
		return fail(err)
	} else if !ok {
		return fail(errors.New("the stored hash is not that of the document"))
	}
	if signedHash != "" {
		// agreements_signed_check keeps signed_hash = sha256.
		if ok, err := s.hashMatches(signedHash, a.SHA256); err != nil {
			return fail(err)
		} else if !ok {
			return fail(errors.New("the stored signed hash is not that of the document"))
		}
		sig.SignedHash = a.SHA256
	}
	if !sig.SignedAt.IsZero() {
		a.Signature = &sig
	}
	return a, st, nil
}

// SaveAgreement archives an agreement keyed by (PlanID, Version) with the
// hash of its document (a given SHA256 must match it). A repeat of the same
// document returns the stored agreement; a different one is ErrConflict.
func (s *Store) SaveAgreement(ctx context.Context, a Agreement) (Agreement, error) {
	fail := func(err error) (Agreement, error) {
		return Agreement{}, fmt.Errorf("save agreement plan %s v%d: %w", a.PlanID, a.Version, err)
	}
	if a.Version < 1 {
		return fail(invalid("version must be at least 1"))
	}
	if a.Document == "" {
		return fail(invalid("document is empty"))
	}
	hash := DocumentHash(a.Document)
	if a.SHA256 != "" && a.SHA256 != hash {
		// (The document's hash is not shown: errors end up in logs.)
		return fail(fmt.Errorf("%w: given hash %s is not that of the document", ErrHashMismatch, a.SHA256))
	}
	a.SHA256 = hash
	// The text names the borrower: it is stored sealed, with a keyed hash
	// of its SHA-256 (the plain SHA-256 would let a reader of the database
	// find the name by hashing candidate texts).
	sealed, err := s.seal("agreements.document", a.Document)
	if err != nil {
		return fail(err)
	}
	keyed, err := s.agreementHash(hash)
	if err != nil {
		return fail(err)
	}
	var out Agreement
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		var (
			err error
			st  storedAgreement
		)
		out, st, err = s.scanStoredAgreement(tx.QueryRow(ctx, `INSERT INTO agreements (plan_id, version, offer_id, document, sha256,
				expires_at)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (plan_id, version) DO NOTHING
			RETURNING `+agreementColumns,
			a.PlanID, a.Version, nullUUID(a.OfferID), sealed, keyed, nullTime(a.ExpiresAt)))
		if err == nil {
			return audit(ctx, tx, out.PlanID, uuid.Nil, ActorSystem, "agreement.saved", map[string]any{
				"version": out.Version, "sha256": st.hash, "offer_id": nullUUID(out.OfferID)})
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return classify(err)
		}
		if out, err = s.scanAgreement(tx.QueryRow(ctx, `SELECT `+agreementColumns+` FROM agreements
			WHERE plan_id = $1 AND version = $2`, a.PlanID, a.Version)); err != nil {
			return classify(err)
		}
		var d diff
		d.str("sha256", out.SHA256, a.SHA256)
		d.id("offer", out.OfferID, a.OfferID)
		d.time("expires at", out.ExpiresAt, instant(a.ExpiresAt))
		return d.err()
	})
	if err != nil {
		return fail(err)
	}
	return out, nil
}

// SignAgreement records the signature of agreement (planID, version). The
// signature must quote the agreement's hash (else ErrHashMismatch) and
// carry consent; a pending agreement past its expiry, or one expired or
// superseded, is ErrStateChanged. Repeating the same signature returns the
// signed agreement; a different one is ErrConflict.
func (s *Store) SignAgreement(ctx context.Context, planID uuid.UUID, version int, sig Signature) (Agreement, error) {
	fail := func(err error) (Agreement, error) {
		return Agreement{}, fmt.Errorf("sign agreement plan %s v%d: %w", planID, version, err)
	}
	if !sig.Consent {
		return fail(invalid("the signer did not consent"))
	}
	if sig.Kind != "electronic" && sig.Kind != "paper" {
		return fail(invalid("signature kind %q must be electronic or paper", sig.Kind))
	}
	if sig.SignerName == "" {
		return fail(invalid("signer name is required"))
	}
	if sig.Kind == "paper" && sig.PaperReference == "" {
		return fail(invalid("a paper signature needs its paper reference"))
	}
	meta, err := object("signature meta", sig.Meta)
	if err != nil {
		return fail(err)
	}
	sig.Meta = meta
	signer, err := s.seal("agreements.signer_name", sig.SignerName)
	if err != nil {
		return fail(err)
	}
	var out Agreement
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		cur, st, err := s.scanStoredAgreement(tx.QueryRow(ctx, `SELECT `+agreementColumns+` FROM agreements
			WHERE plan_id = $1 AND version = $2 FOR UPDATE`, planID, version))
		if err != nil {
			return classify(err)
		}
		if sig.SignedHash != cur.SHA256 {
			// (The agreement's hash is not shown: errors end up in logs.)
			return fmt.Errorf("%w: signature quotes %q, not the agreement's hash", ErrHashMismatch, sig.SignedHash)
		}
		if cur.Signature != nil {
			out = cur
			var d diff
			d.str("kind", cur.Signature.Kind, sig.Kind)
			d.masked("signer", pii.Name, cur.Signature.SignerName, sig.SignerName)
			d.str("paper reference", cur.Signature.PaperReference, sig.PaperReference)
			if !sig.SignedAt.IsZero() {
				d.time("signed at", cur.Signature.SignedAt, instant(sig.SignedAt))
			}
			return d.err()
		}
		if cur.Status != AgreementPending {
			return stateChanged("agreement is %s", cur.Status)
		}
		signedAt := sig.SignedAt
		if signedAt.IsZero() {
			signedAt = time.Now()
		}
		if !cur.ExpiresAt.IsZero() && signedAt.After(cur.ExpiresAt) {
			return stateChanged("agreement expired at %s", cur.ExpiresAt.Format(time.RFC3339))
		}
		// The signature quotes the hash checked above; signed_hash keeps
		// it as sha256 does (agreements_signed_check: signed_hash = sha256).
		// A plain SHA-256 of a sealed text (before migration 009) is
		// replaced by its keyed hash on the way.
		stored := st.hash
		if st.legacy() {
			if stored, err = s.agreementHash(cur.SHA256); err != nil {
				return err
			}
		}
		if out, err = s.scanAgreement(tx.QueryRow(ctx, `UPDATE agreements SET status = 'signed', signed_at = $3,
				signature_kind = $4, signer_name = $5, paper_reference = $6, consent = $7, sha256 = $8,
				signed_hash = $8, signature_meta = $9
			WHERE plan_id = $1 AND version = $2 RETURNING `+agreementColumns,
			planID, version, instant(signedAt), sig.Kind, signer, nullString(sig.PaperReference), sig.Consent,
			stored, []byte(sig.Meta))); err != nil {
			return classify(err)
		}
		return audit(ctx, tx, planID, uuid.Nil, ActorSystem, "agreement.signed", map[string]any{
			"version": version, "sha256": stored, "kind": sig.Kind, "paper_reference": sig.PaperReference})
	})
	if err != nil {
		return fail(err)
	}
	return out, nil
}

// SetAgreementStatus moves a pending agreement to expired or superseded
// (a no-op if it already has that status).
func (s *Store) SetAgreementStatus(ctx context.Context, planID uuid.UUID, version int, status string) (Agreement, error) {
	fail := func(err error) (Agreement, error) {
		return Agreement{}, fmt.Errorf("set agreement plan %s v%d %s: %w", planID, version, status, err)
	}
	if status != AgreementExpired && status != AgreementSuperseded {
		return fail(invalid("status must be expired or superseded"))
	}
	var out Agreement
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		cur, err := s.scanAgreement(tx.QueryRow(ctx, `SELECT `+agreementColumns+` FROM agreements
			WHERE plan_id = $1 AND version = $2 FOR UPDATE`, planID, version))
		if err != nil {
			return classify(err)
		}
		if cur.Status == status {
			out = cur
			return nil
		}
		// A signed agreement can be superseded (a new version replaces it),
		// never expired.
		if cur.Status != AgreementPending && !(cur.Status == AgreementSigned && status == AgreementSuperseded) {
			return stateChanged("agreement is %s", cur.Status)
		}
		if out, err = s.scanAgreement(tx.QueryRow(ctx, `UPDATE agreements SET status = $3
			WHERE plan_id = $1 AND version = $2 RETURNING `+agreementColumns, planID, version, status)); err != nil {
			return classify(err)
		}
		return audit(ctx, tx, planID, uuid.Nil, ActorSystem, "agreement."+status, map[string]any{"version": version})
	})
	if err != nil {
		return fail(err)
	}
	return out, nil
}

// AgreementSignedAt returns when version of the plan's agreement was
// signed, zero while it is not, without reading the document.
func (s *Store) AgreementSignedAt(ctx context.Context, planID uuid.UUID, version int) (time.Time, error) {
	var at *time.Time
	if err := s.db().QueryRow(ctx, `SELECT signed_at FROM agreements WHERE plan_id = $1 AND version = $2`, planID, version).
		Scan(&at); err != nil {
		return time.Time{}, fmt.Errorf("agreement v%d of plan %s: %w", version, planID, classify(err))
	}
	if at == nil {
		return time.Time{}, nil
	}
	return *at, nil
}

// GetAgreement returns agreement (planID, version).
func (s *Store) GetAgreement(ctx context.Context, planID uuid.UUID, version int) (Agreement, error) {
	a, err := s.scanAgreement(s.db().QueryRow(ctx, `SELECT `+agreementColumns+` FROM agreements
		WHERE plan_id = $1 AND version = $2`, planID, version))
	if err != nil {
		return Agreement{}, fmt.Errorf("get agreement plan %s v%d: %w", planID, version, classify(err))
	}
	return a, nil
}

// RehashAgreements replaces, in every agreement whose text is sealed, a
// plain SHA-256 written before migration 009 (in sha256 and signed_hash)
// by its keyed hash with the active key, after checking it against the
// opened text. It returns the number of agreements rehashed; running it
// again is a no-op. (Audit entries written before migration 009 keep the
// plain hash they recorded: audit_log is append-only.)
func (s *Store) RehashAgreements(ctx context.Context) (int, error) {
	type key struct {
		plan    uuid.UUID
		version int
	}
	rows, err := s.db().Query(ctx, `SELECT plan_id, version FROM agreements
		WHERE sha256 ~ '^[0-9a-f]{64}$' ORDER BY plan_id, version`)
	if err != nil {
		return 0, fmt.Errorf("rehash agreements: %w", err)
	}
	keys, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (key, error) {
		var k key
		return k, r.Scan(&k.plan, &k.version)
	})
	if err != nil {
		return 0, fmt.Errorf("rehash agreements: %w", err)
	}
	n := 0
	for _, k := range keys {
		err := s.inTx(ctx, func(tx pgx.Tx) error {
			cur, st, err := s.scanStoredAgreement(tx.QueryRow(ctx, `SELECT `+agreementColumns+` FROM agreements
				WHERE plan_id = $1 AND version = $2 FOR UPDATE`, k.plan, k.version))
			if err != nil || !st.legacy() {
				// A plaintext text keeps its plain hash: the text itself
				// is in the clear (and the database checks the hash).
				return classify(err)
			}
			keyed, err := s.agreementHash(cur.SHA256)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE agreements SET sha256 = $3,
					signed_hash = CASE WHEN signed_hash IS NULL THEN NULL ELSE $3 END
				WHERE plan_id = $1 AND version = $2`, k.plan, k.version, keyed); err != nil {
				return classify(err)
			}
			n++
			return audit(ctx, tx, k.plan, uuid.Nil, ActorSystem, "agreement.rehashed", map[string]any{
				"version": k.version, "sha256": keyed})
		})
		if err != nil {
			return n, fmt.Errorf("rehash agreement plan %s v%d: %w", k.plan, k.version, err)
		}
	}
	return n, nil
}
