package frontdoor_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/activities"
	"github.com/fenqi/fenqi/frontdoor"
	"github.com/fenqi/fenqi/internal/testenv"
	"github.com/fenqi/fenqi/internal/testsystem"
	"github.com/fenqi/fenqi/plan"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var dec = decimal.RequireFromString

// TestReadsWithoutStore checks a door made without WithStore refuses the
// database reads clearly, after checking its input.
func TestReadsWithoutStore(t *testing.T) {
	ctx := context.Background()
	d := frontdoor.New(nil, "")
	id := uuid.NewString()
	if _, err := d.Contacts(ctx, id); !errors.Is(err, frontdoor.ErrNoStore) {
		t.Errorf("Contacts without a store: %v, want ErrNoStore", err)
	}
	if _, err := d.Fund(ctx, id, dec("10"), "k-1"); !errors.Is(err, frontdoor.ErrNoStore) {
		t.Errorf("Fund without a store: %v, want ErrNoStore", err)
	}
	for _, tt := range []struct {
		name   string
		plan   string
		amount string
		key    string
		field  string
	}{
		{"malformed plan id", "not-a-plan", "10", "k", "plan"},
		{"zero amount", id, "0", "k", "amount"},
		{"negative amount", id, "-1", "k", "amount"},
		{"sub-cent amount", id, "0.001", "k", "amount"},
		{"too much", id, "1000000.01", "k", "amount"},
		{"no key", id, "10", "", "key"},
	} {
		_, err := d.Fund(ctx, tt.plan, dec(tt.amount), tt.key)
		var v *plan.ValidationError
		if !errors.As(err, &v) || v.Field != tt.field {
			t.Errorf("Fund with %s: %v, want a validation error on %s", tt.name, err, tt.field)
		}
	}
	var v *plan.ValidationError
	if _, err := d.Contacts(ctx, "not-a-plan"); !errors.As(err, &v) || v.Field != "plan" {
		t.Errorf("Contacts of a malformed id: %v, want a validation error on plan", err)
	}
}

func customer(t *testing.T, name string) plan.Customer { return testsystem.Customer(t, name) }

// TestFundPayAndContacts drives a plan through the door with a store:
// funding is refused before activation and idempotent after it, payments
// are answered once per id, and the contacts show what the customer was
// told.
func TestFundPayAndContacts(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st := testsystem.Store(t)
	queue, _ := testsystem.Worker(t, activities.New(st))
	c := testenv.TemporalClient(t)
	d := frontdoor.New(c, queue, frontdoor.WithStore(st))

	unknown := uuid.NewString()
	if _, err := d.Contacts(ctx, unknown); !errors.Is(err, frontdoor.ErrNotFound) {
		t.Errorf("Contacts of an unknown plan: %v, want ErrNotFound", err)
	}
	if _, err := d.Fund(ctx, unknown, dec("10"), "k-0"); !errors.Is(err, frontdoor.ErrNotFound) {
		t.Errorf("Fund of an unknown plan: %v, want ErrNotFound", err)
	}

	res, err := d.Apply(ctx, plan.Application{RequestID: "fd-" + uuid.NewString(), Customer: customer(t, "strong"), Amount: dec("3000"), Terms: 6})
	if err != nil || res.State != plan.StateOffered {
		t.Fatalf("apply: %+v %v", res, err)
	}
	id := res.PlanID
	var rejected *frontdoor.RejectedError
	if _, err := d.Fund(ctx, id, dec("10"), "k-1"); !errors.As(err, &rejected) || !strings.Contains(rejected.Reason, "no funding account") {
		t.Errorf("Fund before activation: %v, want a RejectedError saying there is no account", err)
	}
	if _, err := d.Pay(ctx, id, plan.PaymentRequest{RequestID: "p-0", Amount: dec("1")}); !errors.As(err, &rejected) {
		t.Errorf("Pay before activation: %v, want a RejectedError", err)
	}
	status, err := d.Status(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	reply, err := d.Choose(ctx, id, plan.ChooseRequest{RequestID: "c-1", OfferSet: status.OfferSet, Offer: 1})
	if err == nil {
		reply, err = d.Sign(ctx, id, plan.SignRequest{RequestID: "s-1", DocumentHash: reply.AgreementHash, Name: "张三", Consent: true})
	}
	if err != nil || reply.State != plan.StateActive {
		t.Fatalf("choose and sign: %+v %v", reply, err)
	}

	for _, step := range []struct {
		amount, key, balance string
	}{{"100", "k-1", "100"}, {"100", "k-1", "100"}, {"50.25", "k-2", "150.25"}} {
		balance, err := d.Fund(ctx, id, dec(step.amount), step.key)
		if err != nil || !balance.Equal(dec(step.balance)) {
			t.Fatalf("Fund %s under %s: balance %s, %v; want %s", step.amount, step.key, balance, err, step.balance)
		}
	}
	if _, err := d.Fund(ctx, id, dec("60"), "k-1"); !errors.As(err, &rejected) || !strings.Contains(rejected.Reason, "k-1") {
		t.Errorf("Fund of another amount under a used key: %v, want a RejectedError naming the key", err)
	}

	pay := plan.PaymentRequest{RequestID: "p-1", Amount: dec("12.34"), Source: "manual"}
	first, err := d.Pay(ctx, id, pay)
	if err != nil || !first.Accepted || first.RequestID != "p-1" {
		t.Fatalf("Pay: %+v %v", first, err)
	}
	if again, err := d.Pay(ctx, id, pay); err != nil || again != first {
		t.Fatalf("Pay again: %+v %v, want %+v", again, err, first)
	}
	pay.Amount = dec("99")
	if _, err := d.Pay(ctx, id, pay); !errors.As(err, &rejected) || !strings.Contains(rejected.Reason, "already used") {
		t.Errorf("Pay of another amount under a used id: %v, want a RejectedError", err)
	}
	var n int
	if err := st.Pool().QueryRow(ctx, `SELECT count(*) FROM payments WHERE plan_id = $1 AND payment_id = 'p-1'`, uuid.MustParse(id)).Scan(&n); err != nil || n != 1 {
		t.Errorf("payment p-1: %d rows (%v), want 1", n, err)
	}

	contacts, err := d.Contacts(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i, k := range contacts {
		seen[k.Purpose] = true
		if i > 0 && k.ScheduledFor.Before(contacts[i-1].ScheduledFor) {
			t.Errorf("contacts are not oldest first: %v before %v", contacts[i-1].ScheduledFor, k.ScheduledFor)
		}
		if k.Status == frontdoor.ContactScheduled && (k.SentAt != nil || !k.Time.Equal(k.ScheduledFor)) {
			t.Errorf("scheduled contact %+v: want no sent_at and its time the scheduled time", k)
		}
		if strings.Contains(k.Body, "+86") || strings.Contains(k.Body, "@example.com") {
			t.Errorf("contact body %q holds the customer's address", k.Body)
		}
	}
	if !seen["schedule_notice"] || !seen["reminder"] {
		t.Errorf("contacts %+v: want the schedule notice and the first reminder", contacts)
	}
	if last := contacts[len(contacts)-1]; last.Purpose != "reminder" || last.Instalment != 1 {
		t.Errorf("the last contact is %+v, want the reminder of instalment 1 (due in a month)", last)
	}
}
