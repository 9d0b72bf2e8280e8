package store

import (
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5"

	"github.com/fenqi/fenqi/codec"
	"github.com/fenqi/fenqi/internal/testenv"
	"github.com/fenqi/fenqi/migrations"
)

// wantKeyedHash is the keyed hash of document under key, computed here
// independently of the store.
func wantKeyedHash(t *testing.T, key codec.Key, document string) string {
	t.Helper()
	sub, err := hkdf.Key(sha256.New, key.Secret, nil, "fenqi/store/agreement-hash/v1", 32)
	if err != nil {
		t.Fatal(err)
	}
	m := hmac.New(sha256.New, sub)
	m.Write([]byte(DocumentHash(document)))
	return "hmac:v1:" + key.ID + ":" + hex.EncodeToString(m.Sum(nil))
}

// tablesHolding reads every row of every table of the public schema as
// text and returns "table: row" for each row holding any of values.
func tablesHolding(t *testing.T, s *Store, values ...string) []string {
	t.Helper()
	ctx := context.Background()
	rows, err := s.Pool().Query(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	var hits []string
	seen := map[string]bool{}
	for _, table := range tables {
		rows, err := s.Pool().Query(ctx, fmt.Sprintf(`SELECT t::text FROM %s t`, pgx.Identifier{table}.Sanitize()))
		if err != nil {
			t.Fatalf("read %s: %v", table, err)
		}
		texts, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatalf("read %s: %v", table, err)
		}
		for _, row := range texts {
			seen[table] = true
			for _, v := range values {
				if strings.Contains(row, v) {
					hits = append(hits, table+": "+row)
				}
			}
		}
	}
	// The scan looked where the hashes would be.
	for _, table := range []string{"agreements", "audit_log"} {
		if !seen[table] {
			t.Fatalf("table %s has no rows: the scan looks in the wrong place", table)
		}
	}
	return hits
}

// rawHashes is agreements.sha256 and signed_hash as stored.
func rawHashes(t *testing.T, s *Store, a Agreement) (string, string) {
	t.Helper()
	var sum, signed string
	if err := s.Pool().QueryRow(context.Background(), `SELECT sha256, coalesce(signed_hash, '') FROM agreements
		WHERE plan_id = $1 AND version = $2`, a.PlanID, a.Version).Scan(&sum, &signed); err != nil {
		t.Fatal(err)
	}
	return sum, signed
}

// The database keeps no plain SHA-256 of an agreement's text (it would
// give away the borrower's name to whoever hashes candidate texts): the
// sha256 and signed_hash columns hold a keyed hash, the audit log too,
// while the store still returns the plain SHA-256.
func TestAgreementHashIsKeyed(t *testing.T) {
	ctx := context.Background()
	ring, keys := ringOf(t, "k1")
	s := openWith(t, migratedURL(t), ring)
	f := newFixture(t, s)
	doc := "分期付款合同\n借款人: " + person.Name + "\n本金 3000.00 元, 3 期\n"
	plain := DocumentHash(doc)
	sum := sha256.Sum256([]byte(doc))
	if plain != hex.EncodeToString(sum[:]) {
		t.Fatalf("DocumentHash %s is not the SHA-256 of the text", plain)
	}

	a, err := s.SaveAgreement(ctx, Agreement{PlanID: f.plan.ID, Version: 1, Document: doc, SHA256: plain})
	if err != nil {
		t.Fatal(err)
	}
	if a.SHA256 != plain {
		t.Fatalf("SaveAgreement returned hash %s, want the plain SHA-256 %s", a.SHA256, plain)
	}
	stored, signed := rawHashes(t, s, a)
	if want := wantKeyedHash(t, keys[0], doc); stored != want || signed != "" {
		t.Fatalf("stored sha256 %q, signed_hash %q; want %q and none", stored, signed, want)
	}
	if hits := tablesHolding(t, s, plain); len(hits) > 0 {
		t.Errorf("the plain SHA-256 of the document is in the database:\n%s", strings.Join(hits, "\n"))
	}
	// A repeat is no conflict; another text for the version is.
	if _, err := s.SaveAgreement(ctx, Agreement{PlanID: f.plan.ID, Version: 1, Document: doc}); err != nil {
		t.Fatalf("repeat: %v", err)
	}
	_, err = s.SaveAgreement(ctx, Agreement{PlanID: f.plan.ID, Version: 1, Document: doc + "!"})
	wantIs(t, err, ErrConflict)
	_, err = s.SaveAgreement(ctx, Agreement{PlanID: f.plan.ID, Version: 2, Document: doc, SHA256: DocumentHash("other")})
	wantIs(t, err, ErrHashMismatch)

	// Signing quotes the plain hash; the row keeps the keyed one.
	_, err = s.SignAgreement(ctx, f.plan.ID, 1, Signature{Kind: "electronic", SignerName: person.Name, Consent: true, SignedHash: stored})
	wantIs(t, err, ErrHashMismatch)
	sig := Signature{Kind: "electronic", SignerName: person.Name, Consent: true, SignedHash: plain}
	got, err := s.SignAgreement(ctx, f.plan.ID, 1, sig)
	if err != nil {
		t.Fatal(err)
	}
	if got.SHA256 != plain || got.Signature == nil || got.Signature.SignedHash != plain {
		t.Fatalf("signed agreement hash %s, signature %+v; want %s", got.SHA256, got.Signature, plain)
	}
	if _, err := s.SignAgreement(ctx, f.plan.ID, 1, sig); err != nil {
		t.Fatalf("repeat signature: %v", err)
	}
	if s2, signed := rawHashes(t, s, a); s2 != stored || signed != stored {
		t.Errorf("after signing: sha256 %q, signed_hash %q; want both %q", s2, signed, stored)
	}
	if hits := tablesHolding(t, s, plain, person.Name); len(hits) > 0 {
		t.Errorf("the database holds the plain hash or the name:\n%s", strings.Join(hits, "\n"))
	}
	read, err := s.GetAgreement(ctx, f.plan.ID, 1)
	if err != nil || read.SHA256 != plain || read.Document != doc || read.Signature == nil || read.Signature.SignedHash != plain {
		t.Fatalf("GetAgreement: %+v %v", read, err)
	}
	if _, err := s.SetAgreementStatus(ctx, f.plan.ID, 1, AgreementSuperseded); err != nil {
		t.Fatal(err)
	}

	// The database refuses a plain SHA-256 with a sealed text, a keyed hash
	// with a plaintext text, and any change of the keyed hash.
	sealed, err := s.seal("agreements.document", doc)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Pool().Exec(ctx, `INSERT INTO agreements (plan_id, version, document, sha256) VALUES ($1, 5, $2, $3)`,
		f.plan.ID, sealed, plain)
	wantPg(t, err, "23514", "agreements_hash_guard")
	_, err = s.Pool().Exec(ctx, `INSERT INTO agreements (plan_id, version, document, sha256) VALUES ($1, 5, $2, $3)`,
		f.plan.ID, doc, stored)
	wantPg(t, err, "23514", "agreements_sha256_document_check")
	_, err = s.Pool().Exec(ctx, `INSERT INTO agreements (plan_id, version, document, sha256) VALUES ($1, 5, $2, 'hmac:v1:k1:xyz')`,
		f.plan.ID, sealed)
	wantPg(t, err, "23514", "agreements_sha256_check")
	other := wantKeyedHash(t, keys[0], "another text")
	_, err = s.Pool().Exec(ctx, `UPDATE agreements SET sha256 = $2, signed_hash = $2 WHERE id = $1`, a.ID, other)
	wantPg(t, err, "23000", "")
	_, err = s.Pool().Exec(ctx, `UPDATE agreements SET sha256 = $2, signed_hash = $2 WHERE id = $1`, a.ID, plain)
	wantPg(t, err, "23000", "")

	// A keyed hash that is not that of the (sealed) text does not read.
	if _, err := s.Pool().Exec(ctx, `INSERT INTO agreements (plan_id, version, document, sha256) VALUES ($1, 6, $2, $3)`,
		f.plan.ID, sealed, other); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetAgreement(ctx, f.plan.ID, 6); err == nil {
		t.Error("an agreement whose keyed hash is of another text read")
	}
}

// After a rotation, hashes keyed with the old key still verify (a repeat
// save, a signature), new agreements are hashed with the new key, and a
// ring without the old key cannot read them.
func TestAgreementHashRotation(t *testing.T) {
	ctx := context.Background()
	oldRing, oldKeys := ringOf(t, "old")
	url := migratedURL(t)
	before := openWith(t, url, oldRing)
	f := newFixture(t, before)
	doc := "Borrower: " + person.Name + "\nv1"
	a, err := before.SaveAgreement(ctx, Agreement{PlanID: f.plan.ID, Version: 1, Document: doc})
	if err != nil {
		t.Fatal(err)
	}
	newKey, err := codec.GenerateKey("new")
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := oldRing.Rotate(newKey)
	if err != nil {
		t.Fatal(err)
	}
	after := openWith(t, url, rotated)
	if _, err := after.SaveAgreement(ctx, Agreement{PlanID: f.plan.ID, Version: 1, Document: doc, SHA256: a.SHA256}); err != nil {
		t.Fatalf("repeat after rotation: %v", err)
	}
	signed, err := after.SignAgreement(ctx, f.plan.ID, 1, Signature{Kind: "electronic", SignerName: person.Name, Consent: true, SignedHash: a.SHA256})
	if err != nil || signed.Signature.SignedHash != DocumentHash(doc) {
		t.Fatalf("sign after rotation: %+v %v", signed.Signature, err)
	}
	if sum, sig := rawHashes(t, after, a); sum != wantKeyedHash(t, oldKeys[0], doc) || sig != sum {
		t.Errorf("after rotation: sha256 %q, signed_hash %q; want both keyed with the old key", sum, sig)
	}
	doc2 := "Borrower: " + person.Name + "\nv2"
	b, err := after.SaveAgreement(ctx, Agreement{PlanID: f.plan.ID, Version: 2, Document: doc2})
	if err != nil {
		t.Fatal(err)
	}
	if sum, _ := rawHashes(t, after, b); sum != wantKeyedHash(t, newKey, doc2) {
		t.Errorf("new agreement hash %q, want keyed with the new key", sum)
	}
	newOnly, err := codec.NewKeyRing(newKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := openWith(t, url, newOnly).GetAgreement(ctx, f.plan.ID, 1); err == nil {
		t.Error("read an agreement hashed with a key no longer in the ring")
	}
}

// only008 is the embedded migrations up to 008: a schema from before
// keyed agreement hashes.
func only008(t *testing.T) fs.FS {
	t.Helper()
	out := fstest.MapFS{}
	entries, err := fs.ReadDir(migrations.FS(), ".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if name := e.Name(); strings.HasSuffix(name, ".sql") && name < "009" {
			b, err := fs.ReadFile(migrations.FS(), name)
			if err != nil {
				t.Fatal(err)
			}
			out[name] = &fstest.MapFile{Data: b}
		}
	}
	if len(out) != 8 {
		t.Fatalf("%d migrations before 009, want 8", len(out))
	}
	return out
}

// Agreements written before migration 009 (a plain SHA-256, of a sealed
// or a plaintext text) still read after it; signing and RehashAgreements
// replace the plain hash of a sealed text by its keyed hash.
func TestAgreementPlainHashRowsStillRead(t *testing.T) {
	ctx := context.Background()
	url := testenv.Database(t)
	if v, err := migrations.UpFS(ctx, url, only008(t)); err != nil || v != 8 {
		t.Fatalf("migrate to 008: %d %v", v, err)
	}
	ring, keys := ringOf(t, "k1")
	old := openWith(t, url, ring)
	f := newFixture(t, old)
	s := old
	// The rows as the store wrote them under migration 008: sealed texts
	// with their plain SHA-256, one of them signed; and a plaintext text.
	docs := map[int]string{1: "Borrower: " + person.Name + "\npending", 2: "Borrower: " + person.Name + "\nsigned",
		3: "Borrower: " + person.Name + "\nplaintext"}
	for v := 1; v <= 2; v++ {
		sealed, err := s.seal("agreements.document", docs[v])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Pool().Exec(ctx, `INSERT INTO agreements (plan_id, version, document, sha256) VALUES ($1, $2, $3, $4)`,
			f.plan.ID, v, sealed, DocumentHash(docs[v])); err != nil {
			t.Fatal(err)
		}
	}
	signer, err := s.seal("agreements.signer_name", person.Name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pool().Exec(ctx, `UPDATE agreements SET status = 'signed', signed_at = now(), signature_kind = 'electronic',
			signer_name = $2, consent = true, signed_hash = sha256 WHERE plan_id = $1 AND version = 2`, f.plan.ID, signer); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pool().Exec(ctx, `INSERT INTO agreements (plan_id, version, document, sha256) VALUES ($1, 3, $2, $3)`,
		f.plan.ID, docs[3], DocumentHash(docs[3])); err != nil {
		t.Fatal(err)
	}

	if v, err := migrations.Up(ctx, url); err != nil || v < 9 {
		t.Fatalf("migrate to 009: %d %v", v, err)
	}
	// (A fresh pool: the old one's cached statements have the old types.)
	s = openWith(t, url, ring)
	for v, doc := range docs {
		a, err := s.GetAgreement(ctx, f.plan.ID, v)
		if err != nil || a.Document != doc || a.SHA256 != DocumentHash(doc) {
			t.Fatalf("legacy agreement v%d: %+v %v", v, a, err)
		}
		if v == 2 && (a.Signature == nil || a.Signature.SignedHash != a.SHA256) {
			t.Fatalf("legacy signed agreement: %+v", a.Signature)
		}
	}
	// Saving a legacy agreement again is no conflict.
	_, err = s.SaveAgreement(ctx, Agreement{PlanID: f.plan.ID, Version: 1, Document: docs[1]})
	if err != nil {
		t.Fatalf("repeat of a legacy agreement: %v", err)
	}

	// Signing the pending one keys its hash.
	signed, err := s.SignAgreement(ctx, f.plan.ID, 1, Signature{Kind: "electronic", SignerName: person.Name, Consent: true,
		SignedHash: DocumentHash(docs[1])})
	if err != nil || signed.Signature.SignedHash != DocumentHash(docs[1]) {
		t.Fatalf("sign legacy agreement: %+v %v", signed, err)
	}
	if sum, sig := rawHashes(t, s, signed); sum != wantKeyedHash(t, keys[0], docs[1]) || sig != sum {
		t.Errorf("signed legacy agreement: sha256 %q, signed_hash %q; want both keyed", sum, sig)
	}
	// RehashAgreements keys the signed one, leaves the plaintext text's.
	n, err := s.RehashAgreements(ctx)
	if err != nil || n != 1 {
		t.Fatalf("RehashAgreements = %d, %v; want 1", n, err)
	}
	if n, err := s.RehashAgreements(ctx); err != nil || n != 0 {
		t.Fatalf("second RehashAgreements = %d, %v; want 0", n, err)
	}
	a2, err := s.GetAgreement(ctx, f.plan.ID, 2)
	if err != nil || a2.SHA256 != DocumentHash(docs[2]) || a2.Signature == nil || a2.Signature.SignedHash != a2.SHA256 {
		t.Fatalf("rehashed signed agreement: %+v %v", a2, err)
	}
	if sum, sig := rawHashes(t, s, a2); sum != wantKeyedHash(t, keys[0], docs[2]) || sig != sum {
		t.Errorf("rehashed signed agreement: sha256 %q, signed_hash %q; want both keyed", sum, sig)
	}
	// Only the plaintext text (in the clear anyway) keeps a plain hash; the
	// plain hashes of the sealed texts are nowhere (the audit log included).
	if hits := tablesHolding(t, s, DocumentHash(docs[1]), DocumentHash(docs[2])); len(hits) > 0 {
		t.Errorf("the database holds a plain hash of a sealed text:\n%s", strings.Join(hits, "\n"))
	}
	if sum, _ := rawHashes(t, s, Agreement{PlanID: f.plan.ID, Version: 3}); sum != DocumentHash(docs[3]) {
		t.Errorf("plaintext agreement hash %q, want its plain SHA-256", sum)
	}
	// The one move the immutability guard allows happens once.
	_, err = s.Pool().Exec(ctx, `UPDATE agreements SET sha256 = $3, signed_hash = $3 WHERE plan_id = $1 AND version = $2`,
		f.plan.ID, 2, wantKeyedHash(t, keys[0], "another text"))
	wantPg(t, err, "23000", "")
}
