package store

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/tern/v2/migrate"
	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/internal/testenv"
	"github.com/fenqi/fenqi/migrations"
)

// planAudits counts a plan's audit entries of an action.
func planAudits(t *testing.T, s *Store, f *fixture, action string) int {
	t.Helper()
	return count(t, s, `SELECT count(*) FROM audit_log WHERE plan_id = $1 AND action = $2`, f.plan.ID, action)
}

// TestAccruePenaltyIsMonotonic accrues late charges step by step on one
// plan: a higher total is stored, an older or lower one changes nothing,
// an equal one only moves the accrued-through date forward.
func TestAccruePenaltyIsMonotonic(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	f := newFixture(t, s)
	f.activateWithCredit(t)
	pt := func(no int, total string) PenaltyTotal { return PenaltyTotal{No: no, Total: dec(total)} }
	type row struct {
		no      int
		penalty string
		through time.Time // zero: never accrued
	}
	for _, tc := range []struct {
		name    string
		version int
		asOf    time.Time
		totals  []PenaltyTotal
		err     error
		want    []row
		audited bool
	}{
		{"first accrual", 1, day(2025, 2, 10), []PenaltyTotal{pt(1, "5")}, nil,
			[]row{{1, "5", day(2025, 2, 10)}, {2, "0", time.Time{}}}, true},
		{"later and higher", 1, day(2025, 2, 20), []PenaltyTotal{pt(1, "8.50")}, nil,
			[]row{{1, "8.5", day(2025, 2, 20)}}, true},
		{"retry of an older accrual: no-op", 1, day(2025, 2, 15), []PenaltyTotal{pt(1, "6")}, nil,
			[]row{{1, "8.5", day(2025, 2, 20)}}, false},
		{"lower total on a newer date: no-op", 1, day(2025, 2, 28), []PenaltyTotal{pt(1, "7")}, nil,
			[]row{{1, "8.5", day(2025, 2, 20)}}, false},
		{"same total, older date: no-op", 1, day(2025, 2, 15), []PenaltyTotal{pt(1, "8.5")}, nil,
			[]row{{1, "8.5", day(2025, 2, 20)}}, false},
		{"same total, newer date: through moves", 1, day(2025, 2, 25), []PenaltyTotal{pt(1, "8.5")}, nil,
			[]row{{1, "8.5", day(2025, 2, 25)}}, true},
		{"exact repeat: no-op", 1, day(2025, 2, 25), []PenaltyTotal{pt(1, "8.5")}, nil,
			[]row{{1, "8.5", day(2025, 2, 25)}}, false},
		{"higher total on an older date keeps the later date", 1, day(2025, 2, 22), []PenaltyTotal{pt(1, "9")}, nil,
			[]row{{1, "9", day(2025, 2, 25)}}, true},
		{"current version, two rows, zero on the second", 0, day(2025, 3, 5), []PenaltyTotal{pt(2, "0"), pt(1, "10")}, nil,
			[]row{{1, "10", day(2025, 3, 5)}, {2, "0", day(2025, 3, 5)}, {3, "0", time.Time{}}}, true},
		{"unknown instalment: nothing kept", 1, day(2025, 3, 9), []PenaltyTotal{pt(1, "11"), pt(9, "1")}, ErrNotFound,
			[]row{{1, "10", day(2025, 3, 5)}}, false},
		{"negative", 1, day(2025, 3, 9), []PenaltyTotal{pt(1, "-1")}, ErrInvalid, nil, false},
		{"sub-cent", 1, day(2025, 3, 9), []PenaltyTotal{pt(1, "10.001")}, ErrInvalid, nil, false},
		{"an instalment twice", 1, day(2025, 3, 9), []PenaltyTotal{pt(1, "11"), pt(1, "12")}, ErrInvalid, nil, false},
		{"no date", 1, time.Time{}, []PenaltyTotal{pt(1, "11")}, ErrInvalid, nil, false},
		{"unknown version", 7, day(2025, 3, 9), []PenaltyTotal{pt(1, "11")}, ErrNotFound, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := planAudits(t, s, f, "penalty.accrued")
			rows, err := s.AccruePenalty(ctx, f.plan.ID, tc.version, tc.asOf, tc.totals)
			if tc.err != nil {
				wantIs(t, err, tc.err)
				rows = must(s.Schedule(ctx, f.plan.ID, 1))(t)
			} else if err != nil {
				t.Fatal(err)
			}
			through := must(s.PenaltyAccruedThrough(ctx, f.plan.ID, 0))(t)
			for _, w := range tc.want {
				r := rowNo(t, rows, w.no)
				if !r.PenaltyAccrued.Equal(dec(w.penalty)) || !through[w.no].Equal(w.through) {
					t.Fatalf("instalment %d penalty %s through %s, want %s through %s", w.no, r.PenaltyAccrued,
						through[w.no].Format(time.DateOnly), w.penalty, w.through.Format(time.DateOnly))
				}
			}
			if audited := planAudits(t, s, f, "penalty.accrued") > before; audited != tc.audited {
				t.Fatalf("penalty.accrued audited %t, want %t", audited, tc.audited)
			}
		})
	}

	// A settled instalment keeps its penalty; a superseded one is refused.
	f.payManual(t, "pay-1", "1040", time.Date(2025, 3, 6, 8, 0, 0, 0, time.UTC),
		alloc(1, 1, ComponentPenalty, "10"), alloc(1, 1, ComponentInterest, "30"), alloc(1, 1, ComponentPrincipal, "1000"))
	rows := must(s.AccruePenalty(ctx, f.plan.ID, 1, day(2025, 3, 10), []PenaltyTotal{pt(1, "12")}))(t)
	if r := rowNo(t, rows, 1); r.Status != InstalmentPaid || !r.PenaltyAccrued.Equal(dec("10")) {
		t.Fatalf("paid instalment %+v, want its penalty kept at 10", r)
	}
	if err := s.SaveSchedule(ctx, ScheduleVersion{PlanID: f.plan.ID, Version: 2, Reason: "restructure"},
		restructureRows()); err != nil {
		t.Fatal(err)
	}
	_, err := s.AccruePenalty(ctx, f.plan.ID, 1, day(2025, 3, 10), []PenaltyTotal{pt(2, "3")})
	wantIs(t, err, ErrStateChanged)
	rows = must(s.AccruePenalty(ctx, f.plan.ID, 0, day(2025, 3, 10), []PenaltyTotal{pt(2, "3")}))(t)
	if r := rowNo(t, rows, 2); r.ScheduleVersion != 2 || !r.PenaltyAccrued.Equal(dec("3")) {
		t.Fatalf("current version row %+v, want penalty 3 on v2", r)
	}
	// A holiday instalment owes nothing.
	f2 := newFixture(t, s)
	f2.activateWithCredit(t)
	must(s.ApplyScheduleChange(ctx, ScheduleChange{PlanID: f2.plan.ID, Version: 2, Reason: ChangeHoliday, RequestID: "h-1",
		AsOf: day(2025, 1, 20), CreditInUse: dec("3000"), Rows: []Instalment{
			{No: 1, DueDate: day(2025, 2, 1), Holiday: true, Principal: decimal.Zero, Payment: decimal.Zero, BalanceAfter: dec("3000")},
			{No: 2, DueDate: day(2025, 3, 1), Principal: dec("3000"), Interest: dec("60"), Payment: dec("3060"), BalanceAfter: dec("0")},
		}}))(t)
	_, err = s.AccruePenalty(ctx, f2.plan.ID, 0, day(2025, 2, 10), []PenaltyTotal{pt(1, "1")})
	wantIs(t, err, ErrInvalid)
}

// TestPromises records and resolves promises to pay.
func TestPromises(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	f := newFixture(t, s)
	idle := newFixture(t, s) // never activated
	f.activateWithCredit(t)
	madeAt := time.Date(2025, 2, 10, 9, 30, 0, 0, time.UTC)
	promise := func(req, amount string, date time.Time) Promise {
		return Promise{PlanID: f.plan.ID, RequestID: req, PromisedDate: date, Amount: dec(amount), MadeAt: madeAt}
	}
	for _, tc := range []struct {
		name   string
		p      Promise
		err    error
		writes bool
	}{
		{"first", promise("p-1", "1030", day(2025, 2, 20)), nil, true},
		{"repeat", promise("p-1", "1030.00", day(2025, 2, 20)), nil, false},
		{"same request, other amount", promise("p-1", "1000", day(2025, 2, 20)), ErrConflict, false},
		{"same request, other date", promise("p-1", "1030", day(2025, 2, 21)), ErrConflict, false},
		{"same request, other time", func() Promise {
			p := promise("p-1", "1030", day(2025, 2, 20))
			p.MadeAt = madeAt.Add(time.Second)
			return p
		}(),
			ErrConflict, false},
		{"second promise", promise("p-2", "500", day(2025, 3, 1)), nil, true},
		{"zero amount", promise("p-3", "0", day(2025, 3, 1)), ErrInvalid, false},
		{"sub-cent", promise("p-3", "1.001", day(2025, 3, 1)), ErrInvalid, false},
		{"no date", promise("p-3", "1", time.Time{}), ErrInvalid, false},
		{"no request id", promise("", "1", day(2025, 3, 1)), ErrInvalid, false},
		{"other currency", func() Promise { p := promise("p-3", "1", day(2025, 3, 1)); p.Currency = "USD"; return p }(), ErrInvalid, false},
		{"plan not active", func() Promise { p := promise("p-4", "1", day(2025, 3, 1)); p.PlanID = idle.plan.ID; return p }(),
			ErrStateChanged, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := auditCount(t, s)
			got, err := s.RecordPromise(ctx, tc.p)
			if tc.err != nil {
				wantIs(t, err, tc.err)
			} else if err != nil {
				t.Fatal(err)
			} else if got.Status != PromiseOpen || !got.Amount.Equal(tc.p.Amount) || !got.PromisedDate.Equal(tc.p.PromisedDate) ||
				got.Currency != "CNY" || !got.MadeAt.Equal(madeAt) {
				t.Fatalf("promise %+v, want open %+v", got, tc.p)
			}
			if wrote := auditCount(t, s) != before; wrote != tc.writes {
				t.Fatalf("audit written %t, want %t", wrote, tc.writes)
			}
		})
	}
	for _, tc := range []struct {
		name, req, status string
		err               error
		want              string
		writes            bool
	}{
		{"kept", "p-1", PromiseKept, nil, PromiseKept, true},
		{"kept again", "p-1", PromiseKept, nil, PromiseKept, false},
		{"broken after kept", "p-1", PromiseBroken, ErrConflict, "", false},
		{"back to open", "p-2", PromiseOpen, ErrInvalid, "", false},
		{"unknown status", "p-2", "forgotten", ErrInvalid, "", false},
		{"broken", "p-2", PromiseBroken, nil, PromiseBroken, true},
		{"cancelled after broken", "p-2", PromiseCancelled, ErrConflict, "", false},
		{"unknown promise", "p-9", PromiseKept, ErrNotFound, "", false},
	} {
		t.Run("resolve "+tc.name, func(t *testing.T) {
			before := auditCount(t, s)
			got, err := s.ResolvePromise(ctx, f.plan.ID, tc.req, tc.status)
			if tc.err != nil {
				wantIs(t, err, tc.err)
			} else if err != nil {
				t.Fatal(err)
			} else if got.Status != tc.want || got.ResolvedAt.IsZero() {
				t.Fatalf("promise %+v, want %s with a resolution time", got, tc.want)
			}
			if wrote := auditCount(t, s) != before; wrote != tc.writes {
				t.Fatalf("audit written %t, want %t", wrote, tc.writes)
			}
		})
	}
	ps := must(s.Promises(ctx, f.plan.ID))(t)
	if len(ps) != 2 || ps[0].RequestID != "p-1" || ps[1].RequestID != "p-2" || ps[0].Status != PromiseKept || ps[1].Status != PromiseBroken {
		t.Fatalf("promises %+v, want p-1 kept and p-2 broken", ps)
	}
	if n := planAudits(t, s, f, "promise.kept") + planAudits(t, s, f, "promise.broken"); n != 2 {
		t.Fatalf("%d promise resolutions audited, want 2", n)
	}
	_, err := s.Pool().Exec(ctx, `UPDATE promises SET resolved_at = NULL WHERE plan_id = $1`, f.plan.ID)
	wantPg(t, err, "23514", "promises_resolved_check")
}

// TestCollectionActions records the ladder's steps for compliance.
func TestCollectionActions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	f := newFixture(t, s)
	f.activateWithCredit(t)
	owed := Owed{Principal: dec("1000"), Interest: dec("30"), Fee: dec("0"), Penalty: dec("4.5"), Total: dec("1034.50"),
		PayBy: day(2025, 2, 20)}
	at := time.Date(2025, 2, 12, 2, 0, 0, 0, time.UTC) // 10:00 in Shanghai
	action := func(key, stage, kind, channel string, planned time.Time) CollectionAction {
		return CollectionAction{PlanID: f.plan.ID, ActionKey: key, Stage: stage, Kind: kind, Channel: channel, Owed: owed,
			PlannedFor: planned, Details: json.RawMessage(`{"contact_key": "c-` + key + `"}`)}
	}
	with := func(a CollectionAction, change func(*CollectionAction)) CollectionAction { change(&a); return a }
	sms := action("m1-sms", "M1", ActionMessage, "sms", at)
	for _, tc := range []struct {
		name   string
		a      CollectionAction
		err    error
		writes bool
	}{
		{"M1 message", sms, nil, true},
		{"repeat", with(sms, func(a *CollectionAction) { a.Details = json.RawMessage(`{ "contact_key":"c-m1-sms" }`) }), nil, false},
		{"same key, other stage", with(sms, func(a *CollectionAction) { a.Stage = "M2" }), ErrConflict, false},
		{"same key, other channel", with(sms, func(a *CollectionAction) { a.Channel = "push" }), ErrConflict, false},
		{"same key, other penalty", with(sms, func(a *CollectionAction) { a.Owed.Penalty = dec("5"); a.Owed.Total = dec("1035") }),
			ErrConflict, false},
		{"same key, other pay-by", with(sms, func(a *CollectionAction) { a.Owed.PayBy = day(2025, 2, 21) }), ErrConflict, false},
		{"same key, other time", with(sms, func(a *CollectionAction) { a.PlannedFor = at.Add(time.Hour) }), ErrConflict, false},
		{"M1 call task, earlier", action("m1-call", "M1", ActionCallTask, "phone", at.Add(-time.Hour)), nil, true},
		{"M3 restructure offer without channel", action("m3-offer", "M3", ActionRestructureOffer, "", at.Add(48*time.Hour)), nil, true},
		{"call by sms", action("x-1", "M1", ActionCallTask, "sms", at), ErrInvalid, false},
		{"message without channel", action("x-2", "M1", ActionMessage, "", at), ErrInvalid, false},
		{"stage M0", action("x-3", "M0", ActionMessage, "sms", at), ErrInvalid, false},
		{"stage M8", action("x-4", "M8", ActionMessage, "sms", at), ErrInvalid, false},
		{"unknown kind", action("x-5", "M1", "visit", "sms", at), ErrInvalid, false},
		{"unknown channel", action("x-6", "M1", ActionMessage, "fax", at), ErrInvalid, false},
		{"total not the sum", with(action("x-7", "M1", ActionMessage, "sms", at), func(a *CollectionAction) { a.Owed.Total = dec("1034") }),
			ErrInvalid, false},
		{"negative fee", with(action("x-8", "M1", ActionMessage, "sms", at), func(a *CollectionAction) {
			a.Owed.Fee = dec("-1")
			a.Owed.Total = dec("1033.50")
		}), ErrInvalid, false},
		{"no pay-by", with(action("x-9", "M1", ActionMessage, "sms", at), func(a *CollectionAction) { a.Owed.PayBy = time.Time{} }),
			ErrInvalid, false},
		{"no key", action("", "M1", ActionMessage, "sms", at), ErrInvalid, false},
		{"no time", action("x-10", "M1", ActionMessage, "sms", time.Time{}), ErrInvalid, false},
		{"details not an object", with(action("x-11", "M1", ActionMessage, "sms", at), func(a *CollectionAction) {
			a.Details = json.RawMessage(`[1]`)
		}), ErrInvalid, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := auditCount(t, s)
			got, err := s.RecordCollectionAction(ctx, tc.a)
			if tc.err != nil {
				wantIs(t, err, tc.err)
			} else if err != nil {
				t.Fatal(err)
			} else if got.ActionKey != tc.a.ActionKey || got.Stage != tc.a.Stage || got.Channel != tc.a.Channel ||
				!got.Owed.Total.Equal(tc.a.Owed.Total) || !got.Owed.Penalty.Equal(tc.a.Owed.Penalty) ||
				!got.Owed.PayBy.Equal(tc.a.Owed.PayBy) || !got.PlannedFor.Equal(tc.a.PlannedFor) {
				t.Fatalf("action %+v, want %+v", got, tc.a)
			}
			if wrote := auditCount(t, s) != before; wrote != tc.writes {
				t.Fatalf("audit written %t, want %t", wrote, tc.writes)
			}
		})
	}
	got := must(s.CollectionActions(ctx, f.plan.ID))(t)
	var keys []string
	for _, a := range got {
		keys = append(keys, a.ActionKey)
	}
	if len(keys) != 3 || keys[0] != "m1-call" || keys[1] != "m1-sms" || keys[2] != "m3-offer" {
		t.Fatalf("actions %v, want m1-call, m1-sms, m3-offer (by planned time)", keys)
	}
	if o := got[1].Owed; !o.Principal.Equal(dec("1000")) || !o.Interest.Equal(dec("30")) || !o.Fee.IsZero() ||
		!o.Penalty.Equal(dec("4.5")) || !o.Total.Equal(dec("1034.5")) || !o.PayBy.Equal(day(2025, 2, 20)) {
		t.Fatalf("owed read back %+v, want %+v", o, owed)
	}
	if n := count(t, s, `SELECT count(*) FROM collection_actions WHERE plan_id = $1 AND (owed->>'total')::numeric = 1034.50
		AND owed->>'pay_by' = '2025-02-20'`, f.plan.ID); n != 3 {
		t.Fatalf("%d actions with owed readable by SQL, want 3", n)
	}
	// The compliance record is append-only.
	_, err := s.Pool().Exec(ctx, `UPDATE collection_actions SET stage = 'M2' WHERE plan_id = $1`, f.plan.ID)
	wantPg(t, err, migrations.CodeAppendOnly, "")
	_, err = s.Pool().Exec(ctx, `DELETE FROM collection_actions WHERE plan_id = $1`, f.plan.ID)
	wantPg(t, err, migrations.CodeAppendOnly, "")
}

// TestReferralAndGrace records an operator's referral decisions and grace
// extensions.
func TestReferralAndGrace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	f := newFixture(t, s)
	idle := newFixture(t, s)
	f.activateWithCredit(t)
	for _, tc := range []struct {
		name                            string
		plan                            *fixture
		req, decision, operator, reason string
		err                             error
		writes                          bool
	}{
		{"hold", f, "ref-1", ReferralHold, "alice", "debtor in hospital", nil, true},
		{"repeat", f, "ref-1", ReferralHold, "alice", "debtor in hospital", nil, false},
		{"same request, other decision", f, "ref-1", ReferralRefer, "alice", "debtor in hospital", ErrConflict, false},
		{"same request, other operator", f, "ref-1", ReferralHold, "bob", "debtor in hospital", ErrConflict, false},
		{"refer", f, "ref-2", ReferralRefer, "bob", "no answer for 120 days", nil, true},
		{"negotiate", f, "ref-3", ReferralNegotiate, "bob", "debtor called back", nil, true},
		{"unknown decision", f, "ref-4", "sue", "bob", "x", ErrInvalid, false},
		{"no reason", f, "ref-4", ReferralRefer, "bob", "", ErrInvalid, false},
		{"no operator", f, "ref-4", ReferralRefer, "", "x", ErrInvalid, false},
		{"no request id", f, "", ReferralRefer, "bob", "x", ErrInvalid, false},
		{"plan not active", idle, "ref-5", ReferralRefer, "bob", "x", ErrStateChanged, false},
	} {
		t.Run("referral "+tc.name, func(t *testing.T) {
			before := auditCount(t, s)
			got, err := s.DecideReferral(ctx, tc.plan.plan.ID, tc.req, tc.decision, tc.operator, tc.reason)
			if tc.err != nil {
				wantIs(t, err, tc.err)
			} else if err != nil {
				t.Fatal(err)
			} else if got.Decision != tc.decision || got.Operator != tc.operator || got.Reason != tc.reason {
				t.Fatalf("decision %+v", got)
			}
			if wrote := auditCount(t, s) != before; wrote != tc.writes {
				t.Fatalf("audit written %t, want %t", wrote, tc.writes)
			}
		})
	}
	ds := must(s.ReferralDecisions(ctx, f.plan.ID))(t)
	if len(ds) != 3 || ds[2].Decision != ReferralNegotiate || ds[0].Decision != ReferralHold {
		t.Fatalf("decisions %+v, want hold, refer, negotiate", ds)
	}
	if n := count(t, s, `SELECT count(*) FROM audit_log WHERE plan_id = $1 AND action = 'referral.decided' AND actor = 'operator:bob'`,
		f.plan.ID); n != 2 {
		t.Fatalf("%d referral.decided by operator:bob, want 2", n)
	}

	if until := must(s.GraceExtendedUntil(ctx, f.plan.ID))(t); !until.IsZero() {
		t.Fatalf("grace extended until %s before any extension", until)
	}
	for _, tc := range []struct {
		name             string
		plan             *fixture
		req              string
		until            time.Time
		operator, reason string
		err              error
		writes           bool
		wantUntil        time.Time
	}{
		{"first", f, "g-1", day(2025, 3, 15), "alice", "lost job", nil, true, day(2025, 3, 15)},
		{"repeat (time of day ignored)", f, "g-1", time.Date(2025, 3, 15, 13, 0, 0, 0, time.UTC), "alice", "lost job", nil, false,
			day(2025, 3, 15)},
		{"same request, other date", f, "g-1", day(2025, 3, 16), "alice", "lost job", ErrConflict, false, day(2025, 3, 15)},
		{"same request, other reason", f, "g-1", day(2025, 3, 15), "alice", "illness", ErrConflict, false, day(2025, 3, 15)},
		{"an earlier date does not shorten it", f, "g-2", day(2025, 3, 1), "bob", "partial recovery", nil, true, day(2025, 3, 15)},
		{"a later one extends it", f, "g-3", day(2025, 4, 30), "bob", "hospital stay", nil, true, day(2025, 4, 30)},
		{"no date", f, "g-4", time.Time{}, "bob", "x", ErrInvalid, false, day(2025, 4, 30)},
		{"no operator", f, "g-4", day(2025, 5, 1), "", "x", ErrInvalid, false, day(2025, 4, 30)},
		{"plan not active", idle, "g-5", day(2025, 5, 1), "bob", "x", ErrStateChanged, false, time.Time{}},
	} {
		t.Run("grace "+tc.name, func(t *testing.T) {
			before := auditCount(t, s)
			got, err := s.ExtendGrace(ctx, tc.plan.plan.ID, tc.req, tc.until, tc.operator, tc.reason)
			if tc.err != nil {
				wantIs(t, err, tc.err)
			} else if err != nil {
				t.Fatal(err)
			} else if !got.Until.Equal(civil(tc.until)) || got.Operator != tc.operator {
				t.Fatalf("extension %+v", got)
			}
			if wrote := auditCount(t, s) != before; wrote != tc.writes {
				t.Fatalf("audit written %t, want %t", wrote, tc.writes)
			}
			if until := must(s.GraceExtendedUntil(ctx, tc.plan.plan.ID))(t); !until.Equal(tc.wantUntil) {
				t.Fatalf("grace extended until %s, want %s", until, tc.wantUntil)
			}
		})
	}
}

// delinquent activates the fixture plan (3,000.00 on a 5,000.00 line) and
// leaves it owing on instalments 2 and 3: #1 paid, #2 partly paid with a
// penalty partly waived, #3 untouched, a reminder of #3 and a notice
// queued. It returns what the open instalments owe in total.
func delinquent(t *testing.T, f *fixture) decimal.Decimal {
	t.Helper()
	ctx := context.Background()
	s := f.s
	f.activateWithCredit(t)
	f.payManual(t, "pay-1", "1030", time.Date(2025, 2, 1, 8, 0, 0, 0, time.UTC),
		alloc(1, 1, ComponentInterest, "30"), alloc(1, 1, ComponentPrincipal, "1000"))
	f.payManual(t, "pay-2", "520", time.Date(2025, 3, 10, 8, 0, 0, 0, time.UTC),
		alloc(1, 2, ComponentInterest, "20"), alloc(1, 2, ComponentPrincipal, "500"))
	must(s.AccruePenalty(ctx, f.plan.ID, 1, day(2025, 3, 20), []PenaltyTotal{{No: 2, Total: dec("12.34")}}))(t)
	must(s.Waive(ctx, Waiver{PlanID: f.plan.ID, RequestID: "w-1", Operator: "alice", Reason: "goodwill",
		Component: ComponentPenalty, Parts: []WaiverPart{{No: 2, Amount: dec("2.34")}}}))(t)
	for _, c := range []Contact{
		{PlanID: f.plan.ID, ContactKey: keyf("reminder:%s:3", f.plan.ID), Purpose: "reminder", Channel: "sms",
			ScheduleVersion: 1, InstalmentNo: 3, ScheduledFor: time.Date(2025, 3, 29, 1, 0, 0, 0, time.UTC), Body: "due soon"},
		{PlanID: f.plan.ID, ContactKey: keyf("notice:%s:x", f.plan.ID), Purpose: "notice", Channel: "sms",
			ScheduledFor: time.Date(2025, 3, 29, 1, 0, 0, 0, time.UTC), Body: "a notice"},
	} {
		must3(s.QueueContact(ctx, c, json.RawMessage(`{"body": "x"}`)))(t)
	}
	open := decimal.Zero
	for _, r := range must(s.Schedule(ctx, f.plan.ID, 0))(t) {
		if r.Status != InstalmentPaid {
			open = open.Add(r.Outstanding())
		}
	}
	return open
}

// must3 is must for a call returning two values and an error.
func must3[A, B any](a A, _ B, err error) func(t *testing.T) A {
	return must(a, err)
}

// TestWriteOff writes off a delinquent plan: the books of the write-off
// equal the open balance, the credit line is released, the plan and its
// open instalments are written off, and a repeat changes nothing.
func TestWriteOff(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	f := newFixture(t, s)
	open := delinquent(t, f)
	if got := f.used(t); !got.Equal(dec("3000")) {
		t.Fatalf("credit used %s before the write-off, want 3000", got)
	}
	asOf := day(2025, 9, 1)
	res := must(s.WriteOff(ctx, f.plan.ID, "wo-1", "carol", "M7, unreachable", asOf))(t)
	want := WriteOffResult{Principal: dec("1500"), Interest: dec("10"), Fee: dec("0"), Penalty: dec("10"), Total: dec("1520")}
	if !res.Principal.Equal(want.Principal) || !res.Interest.Equal(want.Interest) || !res.Fee.Equal(want.Fee) ||
		!res.Penalty.Equal(want.Penalty) || !res.Total.Equal(want.Total) {
		t.Fatalf("write-off %+v, want %+v", res, want)
	}
	if sum := res.Principal.Add(res.Interest).Add(res.Fee).Add(res.Penalty); !sum.Equal(res.Total) || !res.Total.Equal(open) {
		t.Fatalf("components sum to %s, total %s, open balance %s: all three must be equal", sum, res.Total, open)
	}
	var stored WriteOffResult
	var version int
	if err := s.Pool().QueryRow(ctx, `SELECT principal, interest, fee, penalty, total, schedule_version FROM write_offs
		WHERE plan_id = $1 AND request_id = 'wo-1' AND operator = 'carol' AND as_of = '2025-09-01'`, f.plan.ID).
		Scan(&stored.Principal, &stored.Interest, &stored.Fee, &stored.Penalty, &stored.Total, &version); err != nil {
		t.Fatal(err)
	}
	if !stored.Total.Equal(res.Total) || !stored.Penalty.Equal(res.Penalty) || version != 1 {
		t.Fatalf("stored write-off %+v v%d, want %+v v1", stored, version, res)
	}
	p := must(s.GetPlan(ctx, f.plan.ID))(t)
	if p.State != StateWrittenOff || p.StateReason != "M7, unreachable" || p.ClosedAt.IsZero() {
		t.Fatalf("plan %s (%s) closed at %s, want written_off with its reason and a closing time", p.State, p.StateReason, p.ClosedAt)
	}
	if got := f.used(t); !got.IsZero() {
		t.Fatalf("credit used %s after the write-off, want 0", got)
	}
	if got := must(s.CreditInUse(ctx, f.plan.ID))(t); !got.IsZero() {
		t.Fatalf("plan credit in use %s after the write-off, want 0", got)
	}
	rows := must(s.Schedule(ctx, f.plan.ID, 0))(t)
	for no, st := range map[int]string{1: InstalmentPaid, 2: InstalmentWrittenOff, 3: InstalmentWrittenOff} {
		if r := rowNo(t, rows, no); r.Status != st {
			t.Fatalf("instalment %d is %s, want %s", no, r.Status, st)
		}
	}
	cs := must(s.Contacts(ctx, f.plan.ID, time.Time{}, time.Time{}))(t)
	outcomes := map[string]string{}
	for _, c := range cs {
		outcomes[c.Purpose] = c.Outcome
	}
	if outcomes["reminder"] != OutcomeCancelled || outcomes["notice"] != "" {
		t.Fatalf("contact outcomes %v, want the reminder cancelled and the notice still queued", outcomes)
	}
	if n := count(t, s, `SELECT count(*) FROM outbox o JOIN contacts c ON c.id = o.contact_id
		WHERE c.plan_id = $1 AND o.delivered_at IS NULL`, f.plan.ID); n != 1 {
		t.Fatalf("%d messages left to deliver, want 1 (the notice)", n)
	}
	if n := count(t, s, `SELECT count(*) FROM audit_log WHERE plan_id = $1 AND action = 'plan.written_off'
		AND actor = 'operator:carol' AND details->>'total' = '1520' AND details->>'released' = '3000'`, f.plan.ID); n != 1 {
		t.Fatalf("%d plan.written_off audit entries, want 1", n)
	}

	// Repeats and refusals change nothing.
	before := auditCount(t, s)
	for _, tc := range []struct {
		name                  string
		req, operator, reason string
		asOf                  time.Time
		err                   error
	}{
		{"repeat", "wo-1", "carol", "M7, unreachable", asOf, nil},
		{"same request, other reason", "wo-1", "carol", "other", asOf, ErrConflict},
		{"same request, other date", "wo-1", "carol", "M7, unreachable", day(2025, 9, 2), ErrConflict},
		{"another request", "wo-2", "carol", "M7, unreachable", asOf, ErrStateChanged},
		{"no reason", "wo-3", "carol", "", asOf, ErrInvalid},
		{"no date", "wo-3", "carol", "x", time.Time{}, ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.WriteOff(ctx, f.plan.ID, tc.req, tc.operator, tc.reason, tc.asOf)
			if tc.err != nil {
				wantIs(t, err, tc.err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !got.Total.Equal(res.Total) || !got.Principal.Equal(res.Principal) || !got.Penalty.Equal(res.Penalty) {
				t.Fatalf("repeat answered %+v, want %+v", got, res)
			}
		})
	}
	if auditCount(t, s) != before {
		t.Fatal("a repeated or refused write-off wrote to the audit log")
	}
	if got := f.used(t); !got.IsZero() {
		t.Fatalf("credit used %s after the repeats, want 0", got)
	}
	// A written-off plan takes no more collection decisions; accruals on
	// its instalments change nothing.
	_, err := s.RecordPromise(ctx, Promise{PlanID: f.plan.ID, RequestID: "p-1", PromisedDate: day(2025, 9, 10), Amount: dec("1"),
		MadeAt: time.Now()})
	wantIs(t, err, ErrStateChanged)
	_, err = s.ExtendGrace(ctx, f.plan.ID, "g-1", day(2025, 9, 10), "carol", "x")
	wantIs(t, err, ErrStateChanged)
	_, err = s.DecideReferral(ctx, f.plan.ID, "r-1", ReferralRefer, "carol", "x")
	wantIs(t, err, ErrStateChanged)
	rows = must(s.AccruePenalty(ctx, f.plan.ID, 0, day(2025, 9, 2), []PenaltyTotal{{No: 2, Total: dec("50")}}))(t)
	if r := rowNo(t, rows, 2); !r.PenaltyAccrued.Equal(dec("12.34")) {
		t.Fatalf("written-off instalment accrued %s, want 12.34 kept", r.PenaltyAccrued)
	}
}

// TestWriteOffRefusesWrongState refuses plans that are not active.
func TestWriteOffRefusesWrongState(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	idle := newFixture(t, s)
	closed := newFixture(t, s)
	closed.activateWithCredit(t)
	closed.payManual(t, "pay-all", "3060", time.Date(2025, 4, 1, 8, 0, 0, 0, time.UTC),
		alloc(1, 1, ComponentInterest, "30"), alloc(1, 1, ComponentPrincipal, "1000"),
		alloc(1, 2, ComponentInterest, "20"), alloc(1, 2, ComponentPrincipal, "1000"),
		alloc(1, 3, ComponentInterest, "10"), alloc(1, 3, ComponentPrincipal, "1000"))
	if err := s.ClosePlan(ctx, closed.plan.ID, ""); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		f    *fixture
	}{{"assessing", idle}, {"closed", closed}} {
		t.Run(tc.name, func(t *testing.T) {
			before := auditCount(t, s)
			_, err := s.WriteOff(ctx, tc.f.plan.ID, "wo-1", "carol", "x", day(2025, 9, 1))
			wantIs(t, err, ErrStateChanged)
			if auditCount(t, s) != before || count(t, s, `SELECT count(*) FROM write_offs`) != 0 {
				t.Fatal("a refused write-off wrote something")
			}
		})
	}
}

// TestWriteOffConcurrently writes off one plan from several callers at
// once: one write-off, one release of the credit line, one answer.
func TestWriteOffConcurrently(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	f := newFixture(t, s)
	delinquent(t, f)
	const n = 6
	var wg sync.WaitGroup
	results := make([]WriteOffResult, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = s.WriteOff(ctx, f.plan.ID, "wo-1", "carol", "M7", day(2025, 9, 1))
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("write-off #%d: %v", i, errs[i])
		}
		if !results[i].Total.Equal(dec("1520")) {
			t.Fatalf("write-off #%d answered %+v, want a total of 1520", i, results[i])
		}
	}
	if got := planAudits(t, s, f, "plan.written_off"); got != 1 {
		t.Fatalf("%d plan.written_off audit entries, want 1", got)
	}
	if got := f.used(t); !got.IsZero() {
		t.Fatalf("credit used %s, want 0", got)
	}
}

// TestWriteOffMigratesDown rolls migration 007 back on a written-off plan:
// its instalments get back the status they had when written off.
func TestWriteOffMigratesDown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testenv.Database(t)
	if _, err := migrations.Up(ctx, url); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	s, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	f := newFixture(t, s)
	delinquent(t, f)
	must(s.WriteOff(ctx, f.plan.ID, "wo-1", "carol", "M7", day(2025, 9, 1)))(t)

	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	m, err := migrate.NewMigrator(ctx, conn, migrations.VersionTable)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.LoadMigrations(migrations.FS()); err != nil {
		t.Fatal(err)
	}
	if err := m.MigrateTo(ctx, 6); err != nil {
		t.Fatalf("migrate down to 6: %v", err)
	}
	rows := must(s.Schedule(ctx, f.plan.ID, 1))(t)
	for no, st := range map[int]string{1: InstalmentPaid, 2: InstalmentPartiallyPaid, 3: InstalmentPending} {
		if r := rowNo(t, rows, no); r.Status != st {
			t.Fatalf("instalment %d is %s after migrating down, want %s", no, r.Status, st)
		}
	}
	if _, err := migrations.Up(ctx, url); err != nil {
		t.Fatalf("migrate up again: %v", err)
	}
}

// TestWriteOffLeavesOutUnearnedInterest writes off a plan before its last
// instalment is due: that instalment's principal is written off, its
// interest (never earned) is not.
func TestWriteOffLeavesOutUnearnedInterest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	f := newFixture(t, s)
	delinquent(t, f)
	res := must(s.WriteOff(ctx, f.plan.ID, "wo-1", "carol", "M7, unreachable", day(2025, 3, 20)))(t)
	want := WriteOffResult{Principal: dec("1500"), Interest: dec("0"), Fee: dec("0"), Penalty: dec("10"), Total: dec("1510")}
	if !res.Principal.Equal(want.Principal) || !res.Interest.Equal(want.Interest) || !res.Total.Equal(want.Total) {
		t.Fatalf("write-off %+v, want %+v: the interest of instalment 3 (due 2025-04-01) is not a loss", res, want)
	}
	var notDue bool
	if err := s.Pool().QueryRow(ctx, `SELECT (e->>'not_due')::boolean FROM write_offs w, jsonb_array_elements(w.details->'instalments') e
		WHERE w.plan_id = $1 AND (e->>'no')::int = 3`, f.plan.ID).Scan(&notDue); err != nil || !notDue {
		t.Fatalf("instalment 3 in the write-off's details: not_due %v (%v), want true", notDue, err)
	}
}
