package store

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestOrigination walks application -> assessment (review, then an
// operator's approval) -> offers -> chosen terms -> signing -> active.
func TestOrigination(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	f := newFixture(t, s)

	review := must(s.SaveAssessment(ctx, Assessment{ApplicationID: f.app.ID, Score: 580, Tier: "C",
		Decision: "review", Reasons: []string{"thin credit file"}, Details: []byte(`{"dti":"0.35"}`)}))(t)
	if review.Round != 1 || review.DecidedBy != ActorSystem || review.Currency != "CNY" {
		t.Fatalf("assessment %+v", review)
	}
	f.plan = must(s.SetPlanState(ctx, f.plan.ID, StateChange{From: StateAssessing, To: StateReview}))(t)
	must(s.SaveAssessment(ctx, Assessment{ApplicationID: f.app.ID, Round: 2, Score: 580, Tier: "C",
		CreditLimit: dec("5000"), Decision: "approved", DecidedBy: "operator:7"}))(t)
	if got := must(s.Assessments(ctx, f.app.ID))(t); len(got) != 2 || got[1].DecidedBy != "operator:7" {
		t.Fatalf("assessments %+v", got)
	}
	_, err := s.SaveAssessment(ctx, Assessment{ApplicationID: f.app.ID, Round: 3, Score: 1, Tier: "E", Decision: "declined"})
	wantIs(t, err, ErrInvalid) // a decline needs reasons (database check)

	offers := must(s.SaveOffers(ctx, f.app.ID, 1, offerSet(0)))(t)
	if len(offers) != 2 || offers[0].No != 1 || offers[1].No != 2 || !offers[0].ExpiresAt.Equal(offerExpiry) {
		t.Fatalf("offers %+v", offers)
	}
	if got := must(s.Offers(ctx, f.app.ID, 1))(t); len(got) != 2 || got[1].ID != offers[1].ID {
		t.Fatalf("Offers = %+v", got)
	}
	if got := must(s.Offers(ctx, f.app.ID, 2))(t); len(got) != 0 {
		t.Fatalf("round 2 has %d offers before any was saved", len(got))
	}
	f.plan = must(s.SetPlanState(ctx, f.plan.ID, StateChange{From: StateReview, To: StateOffered}))(t)
	f.plan = must(s.SetCreditLimit(ctx, f.plan.ID, dec("5000")))(t)
	chosen := offers[0]
	terms := PlanTerms{Principal: chosen.Amount, Method: chosen.Method, Terms: chosen.Terms, AnnualRate: chosen.AnnualRate}
	f.plan = must(s.SetPlanTerms(ctx, f.plan.ID, chosen.ID, terms))(t)
	if f.plan.Terms == nil || f.plan.Terms.Frequency != "monthly" || f.plan.OfferID != chosen.ID || !f.plan.CreditLimit.Decimal.Equal(dec("5000")) {
		t.Fatalf("plan after terms %+v", f.plan)
	}
	// Active needs a start date: the database refuses the transition.
	f.plan = must(s.SetPlanState(ctx, f.plan.ID, StateChange{From: StateOffered, To: StateSigning}))(t)
	_, err = s.SetPlanState(ctx, f.plan.ID, StateChange{From: StateSigning, To: StateActive})
	wantIs(t, err, ErrInvalid)
	terms.StartDate = time.Date(2025, 1, 15, 23, 0, 0, 0, time.FixedZone("CST", 8*3600))
	f.plan = must(s.SetPlanTerms(ctx, f.plan.ID, chosen.ID, terms))(t)
	if !f.plan.Terms.StartDate.Equal(day(2025, 1, 15)) {
		t.Fatalf("start date %s, want the civil date 2025-01-15", f.plan.Terms.StartDate)
	}
	// An offer of another application cannot be chosen.
	other := newFixture(t, s)
	otherOffers := must(s.SaveOffers(ctx, other.app.ID, 1, offerSet(0)))(t)
	_, err = s.SetPlanTerms(ctx, f.plan.ID, otherOffers[0].ID, terms)
	wantIs(t, err, ErrNotFound)

	f.plan = must(s.SetPlanState(ctx, f.plan.ID, StateChange{From: StateSigning, To: StateActive, Actor: "operator:7"}))(t)
	if f.plan.State != StateActive || !f.plan.ClosedAt.IsZero() {
		t.Fatalf("plan %+v", f.plan)
	}
	log := must(s.AuditLog(ctx, f.plan.ID))(t)
	var states []string
	for _, e := range log {
		if e.Action == "plan.state" {
			states = append(states, e.Actor)
		}
	}
	if len(states) != 4 || states[3] != "operator:7" {
		t.Fatalf("plan.state audit actors %v", states)
	}
}

// TestPlanStateGuard covers the expected-state guard and final states.
func TestPlanStateGuard(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	f := newFixture(t, s)
	_, err := s.SetPlanState(ctx, f.plan.ID, StateChange{From: StateOffered, To: StateSigning})
	wantIs(t, err, ErrStateChanged)
	if !strings.Contains(err.Error(), "plan is assessing") {
		t.Fatalf("error %q does not say the actual state", err)
	}
	_, err = s.SetPlanState(ctx, f.plan.ID, StateChange{From: StateAssessing, To: "frozen"})
	wantIs(t, err, ErrInvalid)
	_, err = s.SetPlanState(ctx, uuid.New(), StateChange{From: StateAssessing, To: StateDeclined})
	wantIs(t, err, ErrNotFound)

	p := must(s.SetPlanState(ctx, f.plan.ID, StateChange{From: StateAssessing, To: StateDeclined, Reason: "income too low"}))(t)
	if p.ClosedAt.IsZero() || p.StateReason != "income too low" || !FinalState(p.State) {
		t.Fatalf("declined plan %+v", p)
	}
	_, err = s.SetPlanTerms(ctx, f.plan.ID, uuid.Nil, PlanTerms{Principal: dec("1"), Method: "zero", Terms: 1})
	wantIs(t, err, ErrStateChanged)

	// Concurrent transitions from the same state: exactly one wins.
	g := newFixture(t, s)
	errs := make(chan error, 10)
	for i := range 10 {
		to := StateOffered
		if i%2 == 1 {
			to = StateDeclined
		}
		go func() {
			_, err := s.SetPlanState(ctx, g.plan.ID, StateChange{From: StateAssessing, To: to})
			errs <- err
		}()
	}
	wins := 0
	for range 10 {
		if err := <-errs; err == nil {
			wins++
		} else {
			wantIs(t, err, ErrStateChanged)
		}
	}
	final := must(s.GetPlan(ctx, g.plan.ID))(t)
	// The winner and its repeats succeed; the other target fails.
	if wins != 5 || (final.State != StateOffered && final.State != StateDeclined) {
		t.Fatalf("%d calls succeeded, plan %s; want the 5 calls of one target", wins, final.State)
	}
	if n := count(t, s, `SELECT count(*) FROM audit_log WHERE plan_id = $1 AND action = 'plan.state'`, g.plan.ID); n != 1 {
		t.Fatalf("%d state changes audited, want 1", n)
	}
}

// TestAgreementSigning covers the hash rule, consent, expiry and archive.
func TestAgreementSigning(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	f := newFixture(t, s)
	doc := "分期付款合同\nprincipal 3000.00, 3 monthly instalments, annual rate 12%"
	a := must(s.SaveAgreement(ctx, Agreement{PlanID: f.plan.ID, Version: 1, Document: doc,
		ExpiresAt: time.Now().Add(time.Hour)}))(t)
	if a.SHA256 != DocumentHash(doc) || a.Status != AgreementPending || a.Signature != nil {
		t.Fatalf("saved agreement %+v", a)
	}
	_, err := s.SaveAgreement(ctx, Agreement{PlanID: f.plan.ID, Version: 2, Document: doc, SHA256: strings.Repeat("0", 64)})
	wantIs(t, err, ErrHashMismatch)

	sig := Signature{Kind: "electronic", SignerName: "Li Lei", Consent: true, SignedHash: strings.Repeat("f", 64),
		Meta: []byte(`{"ip":"10.0.0.1"}`)}
	_, err = s.SignAgreement(ctx, f.plan.ID, 1, sig)
	wantIs(t, err, ErrHashMismatch)
	sig.SignedHash = a.SHA256
	noConsent := sig
	noConsent.Consent = false
	_, err = s.SignAgreement(ctx, f.plan.ID, 1, noConsent)
	wantIs(t, err, ErrInvalid)
	paper := sig
	paper.Kind = "paper"
	_, err = s.SignAgreement(ctx, f.plan.ID, 1, paper)
	wantIs(t, err, ErrInvalid)

	signed := must(s.SignAgreement(ctx, f.plan.ID, 1, sig))(t)
	if signed.Status != AgreementSigned || signed.Signature == nil || signed.Signature.SignedHash != a.SHA256 {
		t.Fatalf("signed agreement %+v", signed)
	}
	got := must(s.GetAgreement(ctx, f.plan.ID, 1))(t)
	if got.Document != doc || got.Signature.SignerName != "Li Lei" {
		t.Fatalf("archived agreement %+v", got)
	}
	_, err = s.SetAgreementStatus(ctx, f.plan.ID, 1, AgreementExpired)
	wantIs(t, err, ErrStateChanged)

	// An agreement past its expiry cannot be signed.
	late := must(s.SaveAgreement(ctx, Agreement{PlanID: f.plan.ID, Version: 2, Document: "v2",
		ExpiresAt: time.Now().Add(-time.Minute)}))(t)
	_, err = s.SignAgreement(ctx, f.plan.ID, 2, Signature{Kind: "paper", SignerName: "Li Lei", PaperReference: "box 7",
		Consent: true, SignedHash: late.SHA256})
	wantIs(t, err, ErrStateChanged)
	exp := must(s.SetAgreementStatus(ctx, f.plan.ID, 2, AgreementExpired))(t)
	if exp.Status != AgreementExpired {
		t.Fatalf("status %s", exp.Status)
	}
	// A paper signature on a live agreement, recorded by reference.
	v3 := must(s.SaveAgreement(ctx, Agreement{PlanID: f.plan.ID, Version: 3, Document: "v3"}))(t)
	p := must(s.SignAgreement(ctx, f.plan.ID, 3, Signature{Kind: "paper", SignerName: "Li Lei", PaperReference: "archive/2025/0007",
		Consent: true, SignedHash: v3.SHA256}))(t)
	if p.Signature.PaperReference != "archive/2025/0007" {
		t.Fatalf("paper signature %+v", p.Signature)
	}
	// The signature of an archived agreement cannot be rewritten.
	_, err = s.Pool().Exec(ctx, `UPDATE agreements SET signer_name = 'Someone Else' WHERE plan_id = $1 AND version = 1`, f.plan.ID)
	wantPg(t, err, "23000", "")
}

// TestContactsAndOutbox records contacts, queues a message, delivers it.
func TestContactsAndOutbox(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	f := newFixture(t, s)
	f.activate(t)
	at := time.Date(2025, 1, 29, 8, 0, 0, 0, time.FixedZone("CST", 8*3600))
	c, m := func() (Contact, OutboxMessage) {
		c, m, err := s.QueueContact(ctx, Contact{PlanID: f.plan.ID, ContactKey: "rem-1", Purpose: "reminder", Channel: "sms",
			ScheduleVersion: 1, InstalmentNo: 1, Stage: "M0", ScheduledFor: at, Body: "due 2025-02-01: 1030.00"},
			[]byte(`{"to":"13800000000","text":"due 2025-02-01: 1030.00"}`))
		if err != nil {
			t.Fatal(err)
		}
		return c, m
	}()
	if m.ContactID != c.ID || !m.AvailableAt.Equal(at) || !m.DeliveredAt.IsZero() {
		t.Fatalf("outbox message %+v for contact %+v", m, c)
	}
	if got := must(s.ClaimOutbox(ctx, at.Add(-time.Minute), 10))(t); len(got) != 0 {
		t.Fatalf("claimed %d messages before they were available", len(got))
	}
	claimed := must(s.ClaimOutbox(ctx, at, 10))(t)
	if len(claimed) != 1 || claimed[0].ID != m.ID || claimed[0].Attempts != 1 {
		t.Fatalf("claimed %+v", claimed)
	}
	if err := s.MarkOutboxDelivered(ctx, m.ID, at.Add(time.Second), "gateway timeout"); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkOutboxDelivered(ctx, m.ID, at.Add(2*time.Second), ""); err != nil {
		t.Fatal(err)
	}
	if got := must(s.ClaimOutbox(ctx, at.Add(time.Hour), 10))(t); len(got) != 0 {
		t.Fatalf("a delivered message was claimed again: %+v", got)
	}
	wantIs(t, s.MarkOutboxDelivered(ctx, uuid.New(), at, ""), ErrNotFound)

	sent := must(s.SetContactOutcome(ctx, "rem-1", "delivered", at.Add(2*time.Second)))(t)
	if sent.Outcome != "delivered" || !sent.SentAt.Equal(at.Add(2*time.Second)) {
		t.Fatalf("contact after delivery %+v", sent)
	}
	_, err := s.SetContactOutcome(ctx, "rem-1", "lost", time.Time{})
	wantIs(t, err, ErrInvalid)
	_, err = s.SetContactOutcome(ctx, "nope", "sent", time.Time{})
	wantIs(t, err, ErrNotFound)

	must(s.RecordContact(ctx, Contact{PlanID: f.plan.ID, ContactKey: "call-1", Purpose: "collection", Channel: "phone",
		Stage: "M1", ScheduledFor: at.Add(24 * time.Hour), SentAt: at.Add(24 * time.Hour), Outcome: "connected"}))(t)
	_, err = s.RecordContact(ctx, Contact{PlanID: f.plan.ID, ContactKey: "call-2", Purpose: "collection", Channel: "phone",
		Stage: "M9", ScheduledFor: at})
	wantIs(t, err, ErrInvalid)
	all := must(s.Contacts(ctx, f.plan.ID, time.Time{}, time.Time{}))(t)
	if len(all) != 2 || all[0].ContactKey != "rem-1" || all[1].Outcome != "connected" {
		t.Fatalf("contacts %+v", all)
	}
	if got := must(s.Contacts(ctx, f.plan.ID, at.Add(time.Hour), time.Time{}))(t); len(got) != 1 {
		t.Fatalf("contacts from an hour later: %d, want 1", len(got))
	}
}

// TestComplaints opens a complaint through a request and resolves it.
func TestComplaints(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	f := newFixture(t, s)
	_, err := s.OpenComplaint(ctx, Complaint{PlanID: f.plan.ID, RequestID: "c-1", Text: "called at night"})
	wantIs(t, err, ErrNotFound) // the request must exist first
	if _, _, err := s.SaveRequest(ctx, Request{PlanID: f.plan.ID, RequestID: "c-1", Kind: "complaint", Actor: "customer",
		Payload: []byte(`{"text":"called at night"}`)}); err != nil {
		t.Fatal(err)
	}
	must(s.OpenComplaint(ctx, Complaint{PlanID: f.plan.ID, RequestID: "c-1", Text: "called at night"}))(t)
	if open := must(s.OpenComplaints(ctx, f.plan.ID))(t); len(open) != 1 {
		t.Fatalf("%d open complaints, want 1", len(open))
	}
	done := must(s.CloseComplaint(ctx, f.plan.ID, "c-1", ComplaintResolved, "apology; calls limited to daytime", "operator:3"))(t)
	if done.ResolvedAt.IsZero() || done.Status != ComplaintResolved {
		t.Fatalf("closed complaint %+v", done)
	}
	must(s.CloseComplaint(ctx, f.plan.ID, "c-1", ComplaintResolved, "apology; calls limited to daytime", "operator:3"))(t)
	_, err = s.CloseComplaint(ctx, f.plan.ID, "c-1", ComplaintWithdrawn, "", "operator:3")
	wantIs(t, err, ErrConflict)
	if open := must(s.OpenComplaints(ctx, f.plan.ID))(t); len(open) != 0 {
		t.Fatalf("%d open complaints after resolution", len(open))
	}
}

// TestCustomers covers validation, lookup and update with its audit.
func TestCustomers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	c := must(s.UpsertCustomer(ctx, Customer{ExternalRef: "u-1", Email: "li@example.com"}))(t)
	if c.TimeZone != "Asia/Shanghai" || c.PreferredChannel != "sms" || string(c.Profile) != "{}" || c.Name != "" {
		t.Fatalf("defaults %+v", c)
	}
	_, err := s.UpsertCustomer(ctx, Customer{ExternalRef: "u-2", TimeZone: "Mars/Olympus"})
	wantIs(t, err, ErrInvalid)
	_, err = s.UpsertCustomer(ctx, Customer{ExternalRef: "u-3", PreferredChannel: "fax"})
	wantIs(t, err, ErrInvalid)
	_, err = s.UpsertCustomer(ctx, Customer{ExternalRef: "u-4", Profile: []byte(`[1,2]`)})
	wantIs(t, err, ErrInvalid)

	c.Phone, c.PreferredChannel = "13700000000", "push"
	u := must(s.UpdateCustomer(ctx, c))(t)
	if u.ID != c.ID || u.Phone != "13700000000" || u.PreferredChannel != "push" {
		t.Fatalf("updated %+v", u)
	}
	if got := must(s.GetCustomerByRef(ctx, "u-1"))(t); got.Phone != "13700000000" {
		t.Fatalf("GetCustomerByRef %+v", got)
	}
	var details string
	if err := s.Pool().QueryRow(ctx, `SELECT details::text FROM audit_log WHERE customer_id = $1 AND action = 'customer.updated'`,
		c.ID).Scan(&details); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(details, "1370") || !strings.Contains(details, "phone") {
		t.Fatalf("audit details %s must name the fields, never their values", details)
	}
	_, err = s.GetCustomer(ctx, uuid.New())
	wantIs(t, err, ErrNotFound)
	_, err = s.CreateApplication(ctx, Application{RequestID: "a-1", CustomerID: uuid.New(), Amount: dec("1"), Terms: 1})
	wantIs(t, err, ErrNotFound)
	_, err = s.CreateApplication(ctx, Application{RequestID: "a-2", CustomerID: c.ID, Amount: dec("1"), Terms: 361})
	wantIs(t, err, ErrInvalid)
}

// TestOpenRejectsUnreachableDatabase checks Open fails cleanly.
func TestOpenRejectsUnreachableDatabase(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := Open(ctx, "postgres://127.0.0.1:1/none?connect_timeout=2"); err == nil {
		t.Fatal("Open of a closed port succeeded")
	}
}
