package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/internal/testenv"
	"github.com/fenqi/fenqi/migrations"
	"github.com/fenqi/fenqi/plan"
	"github.com/fenqi/fenqi/store"
)

// freshStore is a store over a fresh, migrated database of the test's own.
func freshStore(t *testing.T) *store.Store {
	t.Helper()
	ctx := context.Background()
	url := testenv.Database(t)
	if _, err := migrations.Up(ctx, url); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	st, err := store.Open(ctx, url)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(st.Close)
	return st
}

// onboarding drives one application through the onboarding's writes the
// way the plan workflow does, each step at a workflow time of the test's
// choosing.
type onboarding struct {
	t   *testing.T
	a   *Activities
	app plan.Application
	id  string
	cal Calendar
	// offers are the first offer set.
	offers []plan.Offer
}

func newOnboarding(t *testing.T, rid string) *onboarding {
	t.Helper()
	st := freshStore(t)
	b, err := os.ReadFile(filepath.Join("..", "examples", "customers", "strong.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cust plan.Customer
	dcd := json.NewDecoder(bytes.NewReader(b))
	dcd.DisallowUnknownFields()
	if err := dcd.Decode(&cust); err != nil {
		t.Fatal(err)
	}
	app := plan.Application{RequestID: rid, Customer: cust, Amount: decimal.RequireFromString("12000"), Terms: 12}
	if err := app.Validate(); err != nil {
		t.Fatal(err)
	}
	app = app.Normalized()
	return &onboarding{t: t, a: &Activities{Store: st, Now: time.Now}, app: app, id: plan.IDFromRequest(rid).String(),
		cal: Calendar{TimeZone: app.Customer.TimeZone}}
}

// apply decides the application and records it at the workflow time at.
func (o *onboarding) apply(at time.Time, repeatable bool) (RecordedApplication, error) {
	o.t.Helper()
	ctx := context.Background()
	d, err := o.a.Decide(ctx, DecideInput{App: o.app})
	if err != nil || d.Assessment.Decision != DecisionApproved {
		o.t.Fatalf("decide: %+v, %v; want approved", d.Assessment, err)
	}
	o.offers = d.Offers
	return o.a.RecordApplication(ctx, RecordApplicationInput{
		PlanID: o.id, CustomerID: plan.CustomerIDFromRef(o.app.Customer.Ref).String(), App: o.app, Assessment: d.Assessment,
		State: plan.StateOffered, Offers: d.Offers, OffersExpireAt: at.Add(o.app.Settings.OfferTTL), At: at, Calendar: o.cal,
		Repeatable: repeatable,
	})
}

// choose renders the agreement for the first offer at at and records it;
// the answer is the agreement in effect.
func (o *onboarding) choose(at time.Time, repeatable bool) (RecordedAgreement, error) {
	o.t.Helper()
	ctx := context.Background()
	r, err := o.a.RenderAgreement(ctx, AgreementInput{PlanID: o.id, App: o.app, Offer: o.offers[0], Version: 1, StartAt: at, TimeZone: o.cal.TimeZone})
	if err != nil {
		o.t.Fatalf("render agreement: %v", err)
	}
	in := RecordAgreementInput{
		PlanID: o.id, Version: 1, Offer: o.offers[0], OfferSet: 1, Document: r.Document, Start: r.Start,
		ExpireAt: at.Add(o.app.Settings.SignTTL), RequestID: "choose-1", At: at, Calendar: o.cal, Repeatable: repeatable,
	}
	res, err := o.a.RecordAgreement(ctx, in)
	if err == nil && !res.Repeat {
		// Stored as given: the workflow keeps what it has.
		res = RecordedAgreement{Document: in.Document, Start: in.Start, ExpireAt: in.ExpireAt}
	}
	return res, err
}

// sign activates the plan with the agreement ag, signed at at.
func (o *onboarding) sign(ag RecordedAgreement, at time.Time, repeatable bool) (ActivateResult, error) {
	o.t.Helper()
	ctx := context.Background()
	sched, err := o.a.BuildSchedule(ctx, ScheduleRequest{Terms: o.offers[0].CalcTerms(ag.Start), TimeZone: o.cal.TimeZone})
	if err != nil {
		o.t.Fatalf("build schedule: %v", err)
	}
	return o.a.Activate(ctx, ActivateInput{
		PlanID: o.id, CustomerID: plan.CustomerIDFromRef(o.app.Customer.Ref).String(), Offer: o.offers[0], Schedule: sched.Schedule,
		CreditLimit: decimal.RequireFromString("50000"), AgreementVersion: 1, Signature: plan.SignRequest{RequestID: "sign-1", DocumentHash: ag.Document.SHA256,
			Name: o.app.Customer.Name, Consent: true},
		SignedAt: at, Start: ag.Start, Calendar: o.cal, Reminders: o.app.Settings.ReminderOffsets(), Repeatable: repeatable,
	})
}

// rows counts what the onboarding wrote: contacts, outbox messages,
// audit entries, agreements, instalments and answered requests.
func (o *onboarding) rows() map[string]int {
	o.t.Helper()
	out := map[string]int{}
	for name, sql := range map[string]string{
		"contacts":    `SELECT count(*) FROM contacts WHERE plan_id = $1`,
		"outbox":      `SELECT count(*) FROM outbox o JOIN contacts c ON c.id = o.contact_id WHERE c.plan_id = $1`,
		"audit":       `SELECT count(*) FROM audit_log WHERE plan_id = $1`,
		"agreements":  `SELECT count(*) FROM agreements WHERE plan_id = $1`,
		"instalments": `SELECT count(*) FROM instalments WHERE plan_id = $1`,
		"requests":    `SELECT count(*) FROM requests WHERE plan_id = $1`,
		"offers":      `SELECT count(*) FROM offers f JOIN plans p ON p.application_id = f.application_id WHERE p.id = $1`,
	} {
		var n int
		if err := o.a.Store.Pool().QueryRow(context.Background(), sql, o.id).Scan(&n); err != nil {
			o.t.Fatalf("count %s: %v", name, err)
		}
		out[name] = n
	}
	return out
}

// A local activity's input is not in history: when the worker dies after
// one of the onboarding's writes committed but before the workflow task
// completed, the task runs again from a later workflow time, and the
// write is repeated with other expiries, another start date (the next
// day here) and another signing time. Repeatable, the repeat is answered
// with what the first write stored and writes nothing; without it, the
// stored rows refuse the repeat, which a local activity would retry for
// ever.
func TestOnboardingWritesRepeatedFromALaterTime(t *testing.T) {
	// 23:30 in Shanghai; the repeat runs 45 minutes later, the next day.
	first := time.Date(2026, 3, 2, 15, 30, 0, 0, time.UTC)
	later := first.Add(45 * time.Minute)
	for _, tc := range []struct {
		name       string
		repeatable bool
	}{
		{"repeatable", true},
		{"not repeatable", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := newOnboarding(t, "repeat-"+tc.name)

			app1, err := o.apply(first, true)
			if err != nil || app1.Repeat || !app1.OffersExpireAt.Equal(first.Add(7*24*time.Hour)) {
				t.Fatalf("first application: %+v, %v; want recorded, offers open 7 days", app1, err)
			}
			before := o.rows()
			app2, err := o.apply(later, tc.repeatable)
			if !tc.repeatable {
				if !errors.Is(err, store.ErrConflict) {
					t.Fatalf("repeated application, not repeatable: %+v, %v; want a conflict", app2, err)
				}
				return
			}
			if err != nil || !app2.Repeat || !app2.OffersExpireAt.Equal(app1.OffersExpireAt) {
				t.Fatalf("repeated application: %+v, %v; want the stored expiry %s", app2, err, app1.OffersExpireAt)
			}
			if after := o.rows(); !equalCounts(before, after) {
				t.Errorf("the repeated application wrote: %v, then %v", before, after)
			}

			ag1, err := o.choose(first, true)
			if err != nil || ag1.Repeat {
				t.Fatalf("first agreement: %+v, %v", ag1, err)
			}
			before = o.rows()
			ag2, err := o.choose(later, true)
			if ag1.Start == calc.DateOf(later.In(shanghai)) {
				t.Fatalf("the repeat renders the agreement from %s too: the test needs another day", ag1.Start)
			}
			if err != nil || !ag2.Repeat {
				t.Fatalf("repeated agreement: %+v, %v; want the stored one", ag2, err)
			}
			if ag2.Document != ag1.Document || ag2.Start != ag1.Start || !ag2.ExpireAt.Equal(ag1.ExpireAt) {
				t.Errorf("repeated agreement starts %s (hash %.12s, expires %s); want the stored one: %s (%.12s, %s)",
					ag2.Start, ag2.Document.SHA256, ag2.ExpireAt, ag1.Start, ag1.Document.SHA256, ag1.ExpireAt)
			}
			if after := o.rows(); !equalCounts(before, after) {
				t.Errorf("the repeated agreement wrote: %v, then %v", before, after)
			}

			res1, err := o.sign(ag1, first.Add(time.Minute), true)
			if err != nil || !res1.Activated {
				t.Fatalf("activation: %+v, %v", res1, err)
			}
			before = o.rows()
			res2, err := o.sign(ag2, later.Add(time.Minute), true)
			if err != nil || !res2.Activated || !res2.SignedAt.Equal(res1.SignedAt) {
				t.Fatalf("repeated activation: %+v, %v; want active, signed at %s", res2, err, res1.SignedAt)
			}
			if after := o.rows(); !equalCounts(before, after) || after["instalments"] != o.offers[0].Terms {
				t.Errorf("the repeated activation wrote: %v, then %v (want %d instalments)", before, after, o.offers[0].Terms)
			}
			if len(res2.Contacts) != len(res1.Contacts) {
				t.Errorf("repeated activation sees %d contacts, want %d", len(res2.Contacts), len(res1.Contacts))
			}
		})
	}
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// A repeat need not carry what the lost attempt did: the update the lost
// workflow task accepted is gone with it, and the customer may send
// another request. The stored step stands and is reported as stored; a
// stored decision the policy would no longer make, or an outcome that would
// end an active plan, is refused rather than applied.
func TestRepeatFromAnotherRequest(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 3, 2, 3, 0, 0, 0, time.UTC)
	o := newOnboarding(t, "another-request")
	if _, err := o.apply(at, true); err != nil {
		t.Fatal(err)
	}

	t.Run("the policy changed between the attempts", func(t *testing.T) {
		d, err := o.a.Decide(ctx, DecideInput{App: o.app})
		if err != nil {
			t.Fatal(err)
		}
		d.Assessment.CreditLimit = d.Assessment.CreditLimit.Add(decimal.NewFromInt(1000))
		_, err = o.a.RecordApplication(ctx, RecordApplicationInput{
			PlanID: o.id, CustomerID: plan.CustomerIDFromRef(o.app.Customer.Ref).String(), App: o.app, Assessment: d.Assessment,
			State: plan.StateOffered, Offers: d.Offers, OffersExpireAt: at.Add(time.Hour), At: at, Calendar: o.cal, Repeatable: true,
		})
		if !errors.Is(err, store.ErrConflict) && !strings.Contains(fmt.Sprint(err), "another decision") {
			t.Errorf("repeat with another credit limit: %v, want refused as another decision", err)
		}
	})

	chosen, err := o.choose(at, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("another offer is answered with the stored one", func(t *testing.T) {
		r, err := o.a.PrepareAgreement(ctx, PrepareAgreementInput{
			AgreementInput: AgreementInput{PlanID: o.id, App: o.app, Offer: o.offers[1], Version: 1, StartAt: at.Add(time.Minute), TimeZone: o.cal.TimeZone},
			OfferSet:       1, ExpireAt: at.Add(time.Hour), RequestID: "choose-2", At: at.Add(time.Minute), Calendar: o.cal,
		})
		if err != nil || !r.Repeat || r.Offer != o.offers[0].No || r.Document.SHA256 != chosen.Document.SHA256 {
			t.Errorf("choose offer %d again: offer %d repeat %v hash %.12s, %v; want the stored offer %d and its agreement %.12s",
				o.offers[1].No, r.Offer, r.Repeat, r.Document.SHA256, err, o.offers[0].No, chosen.Document.SHA256)
		}
	})

	first, err := o.sign(chosen, at.Add(2*time.Minute), true)
	if err != nil || !first.Activated {
		t.Fatalf("activation: %+v, %v", first, err)
	}
	t.Run("another signer is answered with the stored signature", func(t *testing.T) {
		sched, err := o.a.BuildSchedule(ctx, ScheduleRequest{Terms: o.offers[0].CalcTerms(chosen.Start), TimeZone: o.cal.TimeZone})
		if err != nil {
			t.Fatal(err)
		}
		res, err := o.a.Activate(ctx, ActivateInput{
			PlanID: o.id, CustomerID: plan.CustomerIDFromRef(o.app.Customer.Ref).String(), Offer: o.offers[0], Schedule: sched.Schedule,
			CreditLimit: decimal.RequireFromString("50000"), AgreementVersion: 1, Signature: plan.SignRequest{RequestID: "sign-2",
				DocumentHash: chosen.Document.SHA256, PaperRef: "SCAN-9", Consent: true},
			SignedAt: at.Add(3 * time.Minute), Start: chosen.Start, Calendar: o.cal, Reminders: o.app.Settings.ReminderOffsets(), Repeatable: true,
		})
		if err != nil || !res.Activated || !res.SignedAt.Equal(first.SignedAt) {
			t.Errorf("a paper signature after the electronic one: %+v, %v; want active, signed at %s", res, err, first.SignedAt)
		}
	})

	t.Run("an outcome cannot end the active plan", func(t *testing.T) {
		err := o.a.RecordOutcome(ctx, RecordOutcomeInput{PlanID: o.id, State: plan.StateExpired, Reasons: []string{"late"}, At: at, Calendar: o.cal})
		if !strings.Contains(fmt.Sprint(err), "cannot be expired before activation") {
			t.Errorf("expire the active plan: %v, want refused", err)
		}
		if p, err := o.a.Store.GetPlan(ctx, plan.IDFromRequest(o.app.RequestID)); err != nil || p.State != string(plan.StateActive) {
			t.Errorf("plan %s (%v), want still active", p.State, err)
		}
	})
}
