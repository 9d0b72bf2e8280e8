package store

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/fenqi/fenqi/codec"
	"github.com/fenqi/fenqi/internal/testenv"
	"github.com/fenqi/fenqi/migrations"
)

// The personal data of the tests below.
var person = Customer{Name: "张三", Phone: "13812345678", Email: "zhang.san@example.com",
	IDNumber: "110101199003071234", PushID: "wx-push-7f3a9c"}

func personalValues(c Customer) map[string]string {
	return map[string]string{"name": c.Name, "phone": c.Phone, "email": c.Email, "id number": c.IDNumber, "push id": c.PushID}
}

// migratedURL is a fresh, migrated database.
func migratedURL(t *testing.T) string {
	t.Helper()
	url := testenv.Database(t)
	if _, err := migrations.Up(context.Background(), url); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return url
}

func openWith(t *testing.T, url string, ring codec.KeyRing) *Store {
	t.Helper()
	s, err := Open(context.Background(), url, WithKeyRing(ring))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

func ringOf(t *testing.T, ids ...string) (codec.KeyRing, []codec.Key) {
	t.Helper()
	keys := make([]codec.Key, len(ids))
	for i, id := range ids {
		k, err := codec.GenerateKey(id)
		if err != nil {
			t.Fatal(err)
		}
		keys[i] = k
	}
	ring, err := codec.NewKeyRing(keys...)
	if err != nil {
		t.Fatal(err)
	}
	return ring, keys
}

// rawCustomer is the customer's row as the database keeps it.
func rawCustomer(t *testing.T, s *Store, ref string) (Customer, string) {
	t.Helper()
	var c Customer
	var row string
	if err := s.Pool().QueryRow(context.Background(), `SELECT coalesce(name, ''), coalesce(phone, ''), coalesce(email, ''),
			coalesce(id_number, ''), coalesce(push_id, ''), c::text FROM customers c WHERE external_ref = $1`, ref).
		Scan(&c.Name, &c.Phone, &c.Email, &c.IDNumber, &c.PushID, &row); err != nil {
		t.Fatalf("raw customer %s: %v", ref, err)
	}
	return c, row
}

// wantSealed checks that the stored row holds no personal value in
// plaintext and every personal column is sealed with key.
func wantSealed(t *testing.T, s *Store, ref, key string) {
	t.Helper()
	raw, row := rawCustomer(t, s, ref)
	for what, v := range personalValues(person) {
		if strings.Contains(row, v) {
			t.Errorf("the customers row holds the %s %q in plaintext: %s", what, v, row)
		}
	}
	for what, v := range personalValues(raw) {
		if !isSealed(v) || sealedKeyID(v) != key {
			t.Errorf("stored %s %q is not sealed with key %s", what, v, key)
		}
	}
}

func TestCustomerPersonalDataIsSealed(t *testing.T) {
	ctx := context.Background()
	ring, _ := ringOf(t, "k1")
	s := openWith(t, migratedURL(t), ring)
	in := person
	in.ExternalRef = "cust-sealed"
	out, err := s.UpsertCustomer(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if out.Name != in.Name || out.Phone != in.Phone || out.Email != in.Email || out.IDNumber != in.IDNumber || out.PushID != in.PushID {
		t.Fatalf("UpsertCustomer returned %+v, want the plaintext of %+v", out, in)
	}
	wantSealed(t, s, in.ExternalRef, "k1")
	for _, get := range []func() (Customer, error){
		func() (Customer, error) { return s.GetCustomer(ctx, out.ID) },
		func() (Customer, error) { return s.GetCustomerByRef(ctx, in.ExternalRef) },
	} {
		got, err := get()
		if err != nil {
			t.Fatal(err)
		}
		if personalValues(got)["phone"] != in.Phone || got.Name != in.Name || got.Email != in.Email || got.IDNumber != in.IDNumber || got.PushID != in.PushID {
			t.Errorf("read back %+v, want %+v", got, in)
		}
	}
	// Sealing is not deterministic, yet a repeat with the same details is
	// no conflict.
	if _, err := s.UpsertCustomer(ctx, in); err != nil {
		t.Fatalf("repeat: %v", err)
	}
	// A conflict names the fields masked, never their values.
	other := in
	other.Phone, other.IDNumber = "13900001111", "440301198807153311"
	_, err = s.UpsertCustomer(ctx, other)
	wantIs(t, err, ErrConflict)
	for _, v := range []string{in.Phone, other.Phone, in.IDNumber, other.IDNumber} {
		if strings.Contains(err.Error(), v) {
			t.Errorf("the conflict shows %q: %v", v, err)
		}
	}
	if !strings.Contains(err.Error(), "139****1111") {
		t.Errorf("the conflict does not show the masked phone: %v", err)
	}
	// Updated details are sealed too; empty ones stay NULL.
	other.Email, other.PushID = "", ""
	if _, err := s.UpdateCustomer(ctx, other); err != nil {
		t.Fatal(err)
	}
	var nulls int
	if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM customers WHERE external_ref = $1 AND email IS NULL AND push_id IS NULL
		AND phone LIKE 'v1:k1:%' AND id_number LIKE 'v1:k1:%'`, in.ExternalRef).Scan(&nulls); err != nil || nulls != 1 {
		t.Errorf("updated row: %d rows sealed with empty fields NULL (%v)", nulls, err)
	}
	got, err := s.GetCustomerByRef(ctx, in.ExternalRef)
	if err != nil || got.Phone != other.Phone || got.IDNumber != other.IDNumber || got.Email != "" {
		t.Errorf("after update: %+v %v", got, err)
	}
}

// A value sealed for one column does not open in another (the column is
// the additional data), and a value whose key is not in the ring does not
// open at all.
func TestSealedValuesAreBound(t *testing.T) {
	ctx := context.Background()
	ring, _ := ringOf(t, "k1")
	url := migratedURL(t)
	s := openWith(t, url, ring)
	in := person
	in.ExternalRef = "cust-bound"
	if _, err := s.UpsertCustomer(ctx, in); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pool().Exec(ctx, `UPDATE customers SET email = phone WHERE external_ref = $1`, in.ExternalRef); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetCustomerByRef(ctx, in.ExternalRef); err == nil {
		t.Error("a phone number moved into the email column opened")
	}
	in.ExternalRef = "cust-bound-2"
	if _, err := s.UpsertCustomer(ctx, in); err != nil {
		t.Fatal(err)
	}
	stranger, _ := ringOf(t, "k9")
	if _, err := openWith(t, url, stranger).GetCustomerByRef(ctx, in.ExternalRef); !errors.Is(err, ErrNoKeys) {
		t.Errorf("read with a ring without key k1: %v, want ErrNoKeys", err)
	}
	// Under a key of the same id but another secret, it fails to open.
	impostor, _ := ringOf(t, "k1")
	if _, err := openWith(t, url, impostor).GetCustomerByRef(ctx, in.ExternalRef); err == nil {
		t.Error("opened with the wrong secret")
	}
}

// After a rotation (a new key put first), rows sealed with the old key
// still read; writes and ResealCustomers seal with the new key; once
// resealed, the old key can leave the ring.
func TestRotation(t *testing.T) {
	ctx := context.Background()
	oldRing, _ := ringOf(t, "old")
	url := migratedURL(t)
	before := openWith(t, url, oldRing)
	for _, ref := range []string{"cust-a", "cust-b"} {
		in := person
		in.ExternalRef = ref
		if _, err := before.UpsertCustomer(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	wantSealed(t, before, "cust-a", "old")

	newKey, err := codec.GenerateKey("new")
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := oldRing.Rotate(newKey)
	if err != nil {
		t.Fatal(err)
	}
	after := openWith(t, url, rotated)
	got, err := after.GetCustomerByRef(ctx, "cust-a")
	if err != nil || got.Phone != person.Phone || got.IDNumber != person.IDNumber {
		t.Fatalf("old row after rotation: %+v %v", got, err)
	}
	// A repeated upsert reseals the row it finds.
	a := person
	a.ExternalRef = "cust-a"
	if _, err := after.UpsertCustomer(ctx, a); err != nil {
		t.Fatal(err)
	}
	wantSealed(t, after, "cust-a", "new")
	wantSealed(t, after, "cust-b", "old")
	n, err := after.ResealCustomers(ctx)
	if err != nil || n != 1 {
		t.Fatalf("ResealCustomers = %d, %v; want 1 (cust-b)", n, err)
	}
	wantSealed(t, after, "cust-b", "new")
	if n, err := after.ResealCustomers(ctx); err != nil || n != 0 {
		t.Fatalf("second ResealCustomers = %d, %v; want 0", n, err)
	}
	newOnly, err := codec.NewKeyRing(newKey)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := openWith(t, url, newOnly).GetCustomerByRef(ctx, "cust-b"); err != nil || got.Email != person.Email {
		t.Fatalf("with the old key retired: %+v %v", got, err)
	}
}

// Rows written before encryption (plaintext) read as they are, and are
// sealed on their next write.
func TestPlaintextRowsStillRead(t *testing.T) {
	ctx := context.Background()
	ring, _ := ringOf(t, "k1")
	s := openWith(t, migratedURL(t), ring)
	if _, err := s.Pool().Exec(ctx, `INSERT INTO customers (external_ref, name, phone, email, id_number, push_id)
		VALUES ('cust-legacy', $1, $2, $3, $4, $5)`, person.Name, person.Phone, person.Email, person.IDNumber, person.PushID); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetCustomerByRef(ctx, "cust-legacy")
	if err != nil || got.Name != person.Name || got.Phone != person.Phone || got.Email != person.Email ||
		got.IDNumber != person.IDNumber || got.PushID != person.PushID {
		t.Fatalf("legacy row: %+v %v", got, err)
	}
	in := person
	in.ExternalRef = "cust-legacy"
	if _, err := s.UpsertCustomer(ctx, in); err != nil {
		t.Fatal(err)
	}
	wantSealed(t, s, "cust-legacy", "k1")
	if got, err := s.GetCustomerByRef(ctx, "cust-legacy"); err != nil || got.IDNumber != person.IDNumber {
		t.Fatalf("resealed legacy row: %+v %v", got, err)
	}

	// A plaintext agreement (its hash checked by the database as before)
	// reads too.
	f := newFixture(t, s)
	doc := "Borrower: " + person.Name + "\nlegacy text"
	if _, err := s.Pool().Exec(ctx, `INSERT INTO agreements (plan_id, version, document, sha256) VALUES ($1, 1, $2, $3)`,
		f.plan.ID, doc, DocumentHash(doc)); err != nil {
		t.Fatal(err)
	}
	a, err := s.GetAgreement(ctx, f.plan.ID, 1)
	if err != nil || a.Document != doc {
		t.Fatalf("legacy agreement: %q %v", a.Document, err)
	}
	// A plaintext text that does not hash to its sha256 is still refused.
	_, err = s.Pool().Exec(ctx, `INSERT INTO agreements (plan_id, version, document, sha256) VALUES ($1, 2, 'text', repeat('a', 64))`, f.plan.ID)
	wantPg(t, err, "23514", "agreements_sha256_document_check")
}

// The agreement's text (it names the borrower) and the signer's name are
// sealed; the store returns the SHA-256 of the plaintext, the row keeps
// only a keyed hash of it (see TestAgreementHashIsKeyed).
func TestAgreementIsSealed(t *testing.T) {
	ctx := context.Background()
	ring, _ := ringOf(t, "k1")
	s := openWith(t, migratedURL(t), ring)
	f := newFixture(t, s)
	doc := "Instalment agreement\nBorrower: " + person.Name + "\nID: " + person.IDNumber + "\n"
	a, err := s.SaveAgreement(ctx, Agreement{PlanID: f.plan.ID, Version: 1, Document: doc})
	if err != nil {
		t.Fatal(err)
	}
	if a.Document != doc || a.SHA256 != DocumentHash(doc) {
		t.Fatalf("saved %q %s", a.Document, a.SHA256)
	}
	if _, err := s.SaveAgreement(ctx, Agreement{PlanID: f.plan.ID, Version: 1, Document: doc}); err != nil {
		t.Fatalf("repeat: %v", err)
	}
	signed, err := s.SignAgreement(ctx, f.plan.ID, 1, Signature{Kind: "electronic", SignerName: person.Name, Consent: true, SignedHash: a.SHA256})
	if err != nil || signed.Signature.SignerName != person.Name {
		t.Fatalf("sign: %+v %v", signed.Signature, err)
	}
	if _, err := s.SignAgreement(ctx, f.plan.ID, 1, Signature{Kind: "electronic", SignerName: person.Name, Consent: true, SignedHash: a.SHA256}); err != nil {
		t.Fatalf("repeat signature: %v", err)
	}
	_, err = s.SignAgreement(ctx, f.plan.ID, 1, Signature{Kind: "electronic", SignerName: "李四", Consent: true, SignedHash: a.SHA256})
	wantIs(t, err, ErrConflict)
	if strings.Contains(err.Error(), "李四") || strings.Contains(err.Error(), person.Name) {
		t.Errorf("the conflict shows a name: %v", err)
	}
	var row string
	if err := s.Pool().QueryRow(ctx, `SELECT a::text FROM agreements a WHERE plan_id = $1`, f.plan.ID).Scan(&row); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{person.Name, person.IDNumber, "Borrower", DocumentHash(doc)} {
		if strings.Contains(row, v) {
			t.Errorf("the agreements row holds %q in plaintext: %s", v, row)
		}
	}
	if !strings.Contains(row, "hmac:v1:k1:") {
		t.Errorf("the agreements row holds no keyed hash: %s", row)
	}
	got, err := s.GetAgreement(ctx, f.plan.ID, 1)
	if err != nil || got.Document != doc || got.Signature == nil || got.Signature.SignerName != person.Name {
		t.Fatalf("read back: %+v %v", got, err)
	}
}

// A store without keys reads plaintext rows, and refuses to write or read
// personal data it cannot seal or open.
func TestNoKeys(t *testing.T) {
	ctx := context.Background()
	orig := DefaultKeyRing
	DefaultKeyRing = func() (codec.KeyRing, error) { return codec.KeyRing{}, ErrNoKeys }
	t.Cleanup(func() { DefaultKeyRing = orig })
	s, err := Open(ctx, migratedURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	in := person
	in.ExternalRef = "cust-nokeys"
	if _, err := s.UpsertCustomer(ctx, in); !errors.Is(err, ErrNoKeys) {
		t.Fatalf("upsert without keys: %v, want ErrNoKeys", err)
	}
	// Without personal data there is nothing to seal.
	if _, err := s.UpsertCustomer(ctx, Customer{ExternalRef: "cust-anonymous"}); err != nil {
		t.Fatal(err)
	}
}
