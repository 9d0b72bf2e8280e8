package store

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// idemCase is one keyed write: called twice with the same key and content
// it stores one row and returns the same result; with different content
// under the same key it fails with want and stores nothing more.
type idemCase struct {
	name string
	// active gives the fixture plan terms, schedule v1 and state active.
	active bool
	// prep runs once before the writes.
	prep func(t *testing.T, f *fixture)
	// write performs the write: variant 0 is the original, 1 differs.
	write func(ctx context.Context, f *fixture, variant int) (any, error)
	// rows counts the rows stored under the key; want rows (default 1).
	rows     func(f *fixture) (string, []any)
	wantRows int
	// want is the error of the differing variant (default ErrConflict).
	want error
	// op is the operation the error message must name.
	op string
}

var offerExpiry = time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)

func offerSet(variant int) []Offer {
	o := []Offer{
		{Method: "annuity", Amount: dec("3000"), Terms: 3, AnnualRate: dec("0.12"), Instalment: dec("1020.07"),
			TotalCost: dec("60.20"), APRNominal: dec("12.0000"), APREffective: dec("12.6825"), ExpiresAt: offerExpiry},
		{Method: "zero", Amount: dec("3000"), Terms: 6, Instalment: dec("500"), TotalCost: dec("0"),
			APRNominal: dec("0"), APREffective: dec("0"), ExpiresAt: offerExpiry, Details: []byte(`{"promo":"spring"}`)},
	}
	if variant == 1 {
		o[1].Terms = 12
	}
	return o
}

func TestWritesAreIdempotent(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	pick := func(variant int, a, b string) string {
		if variant == 1 {
			return b
		}
		return a
	}
	cases := []idemCase{
		{
			name: "UpsertCustomer", op: "upsert customer",
			write: func(ctx context.Context, f *fixture, v int) (any, error) {
				return s.UpsertCustomer(ctx, Customer{ExternalRef: "c-" + f.plan.ID.String(), Name: "Han Meimei",
					Phone: pick(v, "13900000000", "13911111111"), Profile: []byte(`{"income_band": 3, "age_band": "30-39"}`)})
			},
			rows: func(f *fixture) (string, []any) {
				return `SELECT count(*) FROM customers WHERE external_ref = $1`, []any{"c-" + f.plan.ID.String()}
			},
		},
		{
			name: "CreateApplication", op: "create application",
			write: func(ctx context.Context, f *fixture, v int) (any, error) {
				return s.CreateApplication(ctx, Application{RequestID: "req-" + f.plan.ID.String(), CustomerID: f.customer.ID,
					Amount: dec(pick(v, "12000", "12000.01")), Terms: 12, Frequency: "quarterly",
					Preferences: []byte(`{"goal":"lowest_instalment"}`), Channel: "partner", PartnerName: "shop",
					PartnerFeePolicy: []byte(`{"rate":"0.01"}`)})
			},
			rows: func(f *fixture) (string, []any) {
				return `SELECT count(*) FROM applications WHERE request_id = $1`, []any{"req-" + f.plan.ID.String()}
			},
		},
		{
			name: "SaveAssessment", op: "save assessment",
			write: func(ctx context.Context, f *fixture, v int) (any, error) {
				return s.SaveAssessment(ctx, Assessment{ApplicationID: f.app.ID, Score: map[int]int{0: 640, 1: 641}[v],
					Tier: "B", CreditLimit: dec("20000"), Decision: "approved", Reasons: []string{"stable income"}})
			},
			rows: func(f *fixture) (string, []any) {
				return `SELECT count(*) FROM assessments WHERE application_id = $1`, []any{f.app.ID}
			},
		},
		{
			name: "SaveOffers", op: "save offers", wantRows: 2,
			write: func(ctx context.Context, f *fixture, v int) (any, error) {
				return s.SaveOffers(ctx, f.app.ID, 1, offerSet(v))
			},
			rows: func(f *fixture) (string, []any) {
				return `SELECT count(*) FROM offers WHERE application_id = $1 AND round = 1`, []any{f.app.ID}
			},
		},
		{
			name: "CreatePlan", op: "create plan",
			write: func(ctx context.Context, f *fixture, v int) (any, error) {
				id := uuid.NewSHA1(uuid.NameSpaceOID, []byte(f.spare.ID.String()))
				if v == 1 {
					id = uuid.New()
				}
				return s.CreatePlan(ctx, Plan{ID: id, ApplicationID: f.spare.ID, CustomerID: f.customer.ID})
			},
			rows: func(f *fixture) (string, []any) {
				return `SELECT count(*) FROM plans WHERE application_id = $1`, []any{f.spare.ID}
			},
		},
		{
			name: "SetPlanState", op: "set plan", want: ErrStateChanged,
			write: func(ctx context.Context, f *fixture, v int) (any, error) {
				return s.SetPlanState(ctx, f.plan.ID, StateChange{From: StateAssessing,
					To: pick(v, StateOffered, StateDeclined), Reason: "assessed"})
			},
			rows: func(f *fixture) (string, []any) {
				return `SELECT count(*) FROM plans WHERE id = $1 AND state = 'offered'`, []any{f.plan.ID}
			},
		},
		{
			name: "SaveAgreement", op: "save agreement",
			write: func(ctx context.Context, f *fixture, v int) (any, error) {
				return s.SaveAgreement(ctx, Agreement{PlanID: f.plan.ID, Version: 1,
					Document: pick(v, "借款合同 rate 12%", "借款合同 rate 13%"), ExpiresAt: offerExpiry})
			},
			rows: func(f *fixture) (string, []any) {
				return `SELECT count(*) FROM agreements WHERE plan_id = $1`, []any{f.plan.ID}
			},
		},
		{
			name: "SignAgreement", op: "sign agreement",
			prep: func(t *testing.T, f *fixture) {
				must(f.s.SaveAgreement(context.Background(), Agreement{PlanID: f.plan.ID, Version: 1, Document: "合同"}))(t)
			},
			write: func(ctx context.Context, f *fixture, v int) (any, error) {
				return s.SignAgreement(ctx, f.plan.ID, 1, Signature{Kind: "electronic", SignerName: pick(v, "Li Lei", "Lei Li"),
					Consent: true, SignedHash: DocumentHash("合同"), SignedAt: time.Date(2025, 1, 1, 9, 0, 0, 123456789, time.UTC)})
			},
			rows: func(f *fixture) (string, []any) {
				return `SELECT count(*) FROM agreements WHERE plan_id = $1 AND status = 'signed'`, []any{f.plan.ID}
			},
		},
		{
			name: "SaveSchedule", op: "save schedule", wantRows: 3,
			write: func(ctx context.Context, f *fixture, v int) (any, error) {
				rows := threeRows()
				if v == 1 {
					rows[2].Interest, rows[2].Payment = dec("11"), dec("1011")
				}
				return nil, s.SaveSchedule(ctx, ScheduleVersion{PlanID: f.plan.ID, Version: 1, Reason: "initial"}, rows)
			},
			rows: func(f *fixture) (string, []any) {
				return `SELECT count(*) FROM instalments WHERE plan_id = $1`, []any{f.plan.ID}
			},
		},
		{
			name: "RecordPayment", op: "record payment", active: true,
			write: func(ctx context.Context, f *fixture, v int) (any, error) {
				return s.RecordPayment(ctx, Payment{PlanID: f.plan.ID, PaymentID: "bank-123", Source: SourceExternal,
					Amount: dec(pick(v, "1030", "1031")), ReceivedAt: time.Date(2025, 2, 1, 10, 0, 0, 999, time.UTC),
					Allocations: []Allocation{
						{ScheduleVersion: 1, InstalmentNo: 1, Component: ComponentPrincipal, Amount: dec("1000")},
						{ScheduleVersion: 1, InstalmentNo: 1, Component: ComponentInterest, Amount: dec("30")},
					}})
			},
			rows: func(f *fixture) (string, []any) {
				return `SELECT count(*) FROM payments WHERE plan_id = $1 AND payment_id = 'bank-123'`, []any{f.plan.ID}
			},
		},
		{
			name: "Fund", op: "fund account",
			write: func(ctx context.Context, f *fixture, v int) (any, error) {
				return s.Fund(ctx, f.account.ID, dec(pick(v, "500", "501")), "topup-"+f.account.ID.String())
			},
			rows: func(f *fixture) (string, []any) {
				return `SELECT count(*) FROM account_entries WHERE account_id = $1`, []any{f.account.ID}
			},
		},
		{
			name: "Debit", op: "debit account", wantRows: 2,
			prep: func(t *testing.T, f *fixture) {
				must(f.s.Fund(context.Background(), f.account.ID, dec("500"), "fund-"+f.account.ID.String()))(t)
			},
			write: func(ctx context.Context, f *fixture, v int) (any, error) {
				return s.Debit(ctx, f.account.ID, dec(pick(v, "100", "99")), "charge-"+f.account.ID.String())
			},
			rows: func(f *fixture) (string, []any) {
				return `SELECT count(*) FROM account_entries WHERE account_id = $1`, []any{f.account.ID}
			},
		},
		{
			name: "CreateAccount", op: "create account",
			write: func(ctx context.Context, f *fixture, v int) (any, error) {
				return s.CreateAccount(ctx, Account{ID: uuid.NewSHA1(uuid.NameSpaceOID, f.customer.ID[:]),
					CustomerID: f.customer.ID, Label: pick(v, "savings", "salary")})
			},
			rows: func(f *fixture) (string, []any) {
				return `SELECT count(*) FROM funding_accounts WHERE customer_id = $1 AND label <> 'main'`, []any{f.customer.ID}
			},
		},
		{
			name: "RecordDebitAttempt", op: "record debit attempt", active: true,
			write: func(ctx context.Context, f *fixture, v int) (any, error) {
				return s.RecordDebitAttempt(ctx, DebitAttempt{PlanID: f.plan.ID, ScheduleVersion: 1, InstalmentNo: 1,
					Attempt: 1, IdempotencyKey: "ad-" + f.plan.ID.String(), AccountID: f.account.ID,
					Amount: dec(pick(v, "1030", "1000"))})
			},
			rows: func(f *fixture) (string, []any) {
				return `SELECT count(*) FROM debit_attempts WHERE plan_id = $1`, []any{f.plan.ID}
			},
		},
		{
			name: "SaveRequest", op: "save request",
			write: func(ctx context.Context, f *fixture, v int) (any, error) {
				r, _, err := s.SaveRequest(ctx, Request{PlanID: f.plan.ID, RequestID: "r-1", Kind: "early_repayment",
					Actor: "customer", ActorID: f.customer.ExternalRef,
					Payload: []byte(pick(v, `{"amount": "500.00", "mode": "partial"}`, `{"amount": "600.00", "mode": "partial"}`))})
				return r, err
			},
			rows: func(f *fixture) (string, []any) {
				return `SELECT count(*) FROM requests WHERE plan_id = $1`, []any{f.plan.ID}
			},
		},
		{
			name: "AnswerRequest", op: "answer request",
			prep: func(t *testing.T, f *fixture) {
				if _, _, err := f.s.SaveRequest(context.Background(), Request{PlanID: f.plan.ID, RequestID: "r-2",
					Kind: "cancel", Actor: "customer"}); err != nil {
					t.Fatal(err)
				}
			},
			write: func(ctx context.Context, f *fixture, v int) (any, error) {
				return s.AnswerRequest(ctx, f.plan.ID, "r-2", RequestCompleted,
					[]byte(pick(v, `{"quote":"3030.00"}`, `{"quote":"3031.00"}`)))
			},
			rows: func(f *fixture) (string, []any) {
				return `SELECT count(*) FROM requests WHERE plan_id = $1 AND status = 'completed'`, []any{f.plan.ID}
			},
		},
		{
			name: "RecordContact", op: "record contact",
			write: func(ctx context.Context, f *fixture, v int) (any, error) {
				return s.RecordContact(ctx, Contact{PlanID: f.plan.ID, ContactKey: "call-" + f.plan.ID.String(),
					Purpose: "collection", Channel: "phone", Stage: "M1", ScheduledFor: offerExpiry,
					SentAt: offerExpiry, Outcome: "no_answer", Body: pick(v, "call script A", "call script B")})
			},
			rows: func(f *fixture) (string, []any) {
				return `SELECT count(*) FROM contacts WHERE plan_id = $1`, []any{f.plan.ID}
			},
		},
		{
			name: "QueueContact", op: "queue contact", active: true,
			write: func(ctx context.Context, f *fixture, v int) (any, error) {
				c, m, err := s.QueueContact(ctx, Contact{PlanID: f.plan.ID, ContactKey: "rem-" + f.plan.ID.String(),
					Purpose: "reminder", Channel: "sms", ScheduleVersion: 1, InstalmentNo: 1,
					ScheduledFor: time.Date(2025, 1, 29, 1, 0, 0, 0, time.UTC), Body: "Your instalment of 1030.00 is due on 2025-02-01"},
					[]byte(pick(v, `{"to":"13800000000"}`, `{"to":"13811111111"}`)))
				return []any{c, m}, err
			},
			rows: func(f *fixture) (string, []any) {
				return `SELECT count(*) FROM outbox o JOIN contacts c ON c.id = o.contact_id WHERE c.plan_id = $1`, []any{f.plan.ID}
			},
		},
		{
			name: "OpenComplaint", op: "open complaint",
			prep: func(t *testing.T, f *fixture) {
				if _, _, err := f.s.SaveRequest(context.Background(), Request{PlanID: f.plan.ID, RequestID: "cmp-1",
					Kind: "complaint", Actor: "customer"}); err != nil {
					t.Fatal(err)
				}
			},
			write: func(ctx context.Context, f *fixture, v int) (any, error) {
				return s.OpenComplaint(ctx, Complaint{PlanID: f.plan.ID, RequestID: "cmp-1",
					Text: pick(v, "too many calls", "wrong amount")})
			},
			rows: func(f *fixture) (string, []any) {
				return `SELECT count(*) FROM complaints WHERE plan_id = $1`, []any{f.plan.ID}
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, s)
			if c.active {
				f.activate(t)
			}
			if c.prep != nil {
				c.prep(t, f)
			}
			want := c.wantRows
			if want == 0 {
				want = 1
			}
			sql, args := c.rows(f)

			first, err := c.write(ctx, f, 0)
			if err != nil {
				t.Fatalf("first write: %v", err)
			}
			audits := auditCount(t, s)
			second, err := c.write(ctx, f, 0)
			if err != nil {
				t.Fatalf("repeated write: %v", err)
			}
			if !reflect.DeepEqual(first, second) {
				t.Fatalf("repeat returned a different result:\nfirst  %+v\nsecond %+v", first, second)
			}
			if n := count(t, s, sql, args...); n != want {
				t.Fatalf("%d rows after the repeat, want %d", n, want)
			}
			if n := auditCount(t, s); n != audits {
				t.Fatalf("the repeat appended %d audit rows", n-audits)
			}

			_, err = c.write(ctx, f, 1)
			wantErr := c.want
			if wantErr == nil {
				wantErr = ErrConflict
			}
			wantIs(t, err, wantErr)
			if !strings.HasPrefix(err.Error(), c.op) {
				t.Errorf("error %q does not start with the operation %q", err, c.op)
			}
			if n := count(t, s, sql, args...); n != want {
				t.Fatalf("%d rows after the differing write, want %d", n, want)
			}
			if n := auditCount(t, s); n != audits {
				t.Fatalf("the differing write appended %d audit rows", n-audits)
			}
		})
	}
}

// TestRequestRepeatIgnoresJSONLayout checks that a repeated request id with
// the same payload written differently (key order, spacing) is a repeat,
// answered with the stored status and result.
func TestRequestRepeatIgnoresJSONLayout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	f := newFixture(t, s)
	r1, fresh, err := s.SaveRequest(ctx, Request{PlanID: f.plan.ID, RequestID: "req-9", Kind: "restructure",
		Actor: "customer", Payload: []byte(`{"terms":12,"frequency":"monthly"}`)})
	if err != nil || !fresh {
		t.Fatalf("first SaveRequest = fresh %v, %v", fresh, err)
	}
	if r1.Status != RequestReceived || len(r1.PayloadHash) != 64 {
		t.Fatalf("saved request %+v", r1)
	}
	must(s.AnswerRequest(ctx, f.plan.ID, "req-9", RequestRejected, []byte(`{"reason":"plan not active"}`)))(t)
	r2, fresh, err := s.SaveRequest(ctx, Request{PlanID: f.plan.ID, RequestID: "req-9", Kind: "restructure",
		Actor: "customer", Payload: []byte(`{ "frequency" : "monthly", "terms" : 12 }`)})
	if err != nil || fresh {
		t.Fatalf("repeat SaveRequest = fresh %v, %v", fresh, err)
	}
	if r2.Status != RequestRejected || r2.CompletedAt.IsZero() || r2.PayloadHash != r1.PayloadHash {
		t.Fatalf("repeat answered %+v", r2)
	}
	var result map[string]string
	if err := json.Unmarshal(r2.Result, &result); err != nil || result["reason"] != "plan not active" {
		t.Fatalf("repeat result %s (%v)", r2.Result, err)
	}
	got := must(s.GetRequest(ctx, f.plan.ID, "req-9"))(t)
	if !reflect.DeepEqual(got, r2) {
		t.Fatalf("GetRequest = %+v, want %+v", got, r2)
	}
	_, err = s.GetRequest(ctx, f.plan.ID, "never")
	wantIs(t, err, ErrNotFound)
}
