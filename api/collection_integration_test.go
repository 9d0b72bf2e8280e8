package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/plan"
)

// A plan in collection through the API, against the real Temporal dev
// server and PostgreSQL, on a compressed calendar.

// collectionDaySeconds is the business day of the collection scenario in
// real seconds: the first instalment is overdue about 34 business days
// after activation (a month, then 3 days of grace), some 10 s. Once
// overdue, the steps up to the payment take well under the hardship grace
// of 10 business days (3 s) they run in.
const collectionDaySeconds = 0.3

// overduePlan applies for 6000.00 over 6 months for the strong customer on
// a compressed calendar, signs the first offer, leaves the funding account
// empty and waits until the first instalment is overdue (M1). The API
// refuses settings from applicants, so the application goes through the
// front door (as `starter apply --day-seconds` does); the offer is chosen
// and signed through the API. It returns the plan id.
func (s *system) overduePlan(daySeconds float64) string {
	s.t.Helper()
	long := 50 * 365 * 24 * time.Hour // the origination windows, stretched
	applied, err := s.door.Apply(context.Background(), plan.Application{
		RequestID: "app-" + uuid.NewString(), Customer: customer(s.t, "strong"), Amount: decimal.RequireFromString("6000"), Terms: 6,
		Settings: plan.Settings{DaySeconds: daySeconds, OfferTTL: long, SignTTL: long},
	})
	if err != nil || applied.State != plan.StateOffered {
		s.t.Fatalf("apply on a compressed calendar: %+v %v; want offered", applied, err)
	}
	s.activate(applied.PlanID)
	deadline := time.Now().Add(40 * time.Second)
	for {
		st := s.planStatus(applied.PlanID)
		if st.Bucket == "M1" {
			if st.State != plan.StateActive || st.DaysPastDue < 1 {
				s.t.Fatalf("overdue plan: %s, %d days past due; want active and past due", st.State, st.DaysPastDue)
			}
			return applied.PlanID
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("plan %s is %s, bucket %s on business date %s after 40s; want overdue (M1)", applied.PlanID, st.State, st.Bucket, st.BusinessDate)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// collectionStatus reads GET /v1/plans/{id}/collection.
func (s *system) collectionStatus(id string) plan.CollectionStatus {
	s.t.Helper()
	var cs plan.CollectionStatus
	if code := s.call("GET", "/v1/plans/"+id+"/collection", "", nil, &cs); code != http.StatusOK {
		s.t.Fatalf("GET collection of %s: %d, want 200", id, code)
	}
	return cs
}

// waitCollection polls GET /v1/plans/{id}/collection until ok holds.
func (s *system) waitCollection(id, what string, within time.Duration, ok func(plan.CollectionStatus) bool) plan.CollectionStatus {
	s.t.Helper()
	deadline := time.Now().Add(within)
	for {
		cs := s.collectionStatus(id)
		if ok(cs) {
			return cs
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("plan %s: %s not reached within %s: stage %s, bucket %s, collecting %v, next %+v", id, what, within, cs.Stage, cs.Bucket, cs.Collecting, cs.Next)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestCollectionThroughTheAPI leaves a plan's account empty until the
// first instalment is overdue (M1) and reads its collection status; an
// operator grants a hardship grace (collection pauses); a referral and a
// write-off decision are refused (none was raised), a promise to pay by a
// past date is refused; the debtor then pays what the status says is owed
// today and the plan is current again, collection stopped.
func TestCollectionThroughTheAPI(t *testing.T) {
	s := startSystem(t)
	start := time.Now()
	id := s.overduePlan(collectionDaySeconds)
	t.Logf("overdue %s after the application", time.Since(start).Round(time.Millisecond))
	base := "/v1/plans/" + id

	cs := s.waitCollection(id, "stage M1", 10*time.Second, func(cs plan.CollectionStatus) bool { return cs.Stage == "M1" })
	if cs.PlanID != id || cs.State != plan.StateActive || !cs.Collecting || cs.Bucket != "M1" || cs.DaysPastDue < 1 || cs.Today.IsZero() {
		t.Fatalf("collection of the overdue plan: %+v; want active, collecting, M1, with today's date", cs)
	}
	if cs.AsOf != cs.Today || !cs.Owed.Principal.IsPositive() || !cs.Owed.Penalty.IsPositive() || !cs.OwedTotal.Equal(cs.Owed.Total()) || !cs.Overdue.Principal.IsPositive() {
		t.Fatalf("owed as of %s (today %s): %+v, total %s, overdue %+v; want principal and late charges owed as of today, the total their sum", cs.AsOf, cs.Today, cs.Owed, cs.OwedTotal, cs.Overdue)
	}
	// The wire: the owed components as strings with 2 decimals, the lists
	// never null.
	var wire map[string]any
	if code := s.call("GET", base+"/collection", "", nil, &wire); code != http.StatusOK {
		t.Fatalf("GET collection: %d", code)
	}
	for _, k := range []string{"actions", "contacts"} {
		if _, ok := wire[k].([]any); !ok {
			t.Errorf("collection %s is %v, want a list", k, wire[k])
		}
	}
	owed, _ := wire["owed"].(map[string]any)
	for _, k := range []string{"principal", "interest", "fee", "penalty"} {
		if v, ok := owed[k].(string); !ok || !moneyRE.MatchString(v) {
			t.Errorf("collection owed.%s = %#v, want a money string with 2 decimals", k, owed[k])
		}
	}

	// A hardship grace of 10 days: collection pauses.
	until := cs.Today.AddDays(10)
	grantedAt := time.Now()
	var granted plan.Reply
	if code := s.call("POST", base+"/grace", "", map[string]any{"request_id": "gx-1", "until": until.String(), "operator": "alice", "reason": "hospitalised"}, &granted); code != http.StatusOK ||
		!granted.Accepted || granted.RequestID != "gx-1" || granted.State != plan.StateActive || !strings.Contains(granted.Reason, "grace extended until "+until.String()) {
		t.Fatalf("grace until %s: %d %+v; want 200, accepted", until, code, granted)
	}
	// The ladder looks again once the grace is granted (a step of its own,
	// moments later): until then the next action is the one before.
	paused := s.waitCollection(id, "paused by the grace", 2*time.Second, func(cs plan.CollectionStatus) bool { return cs.Next.Action == "paused" })
	if paused.PausedUntil.IsZero() || !paused.PausedUntil.After(until.At(time.UTC, 0, 0, 0)) || !paused.Collecting {
		t.Errorf("collection during the grace: paused until %s, collecting %v; want paused past %s", paused.PausedUntil, paused.Collecting, until)
	}

	// No legal referral and no write-off was raised: the plan refuses the
	// decisions before accepting them (409, as any request the plan's
	// state does not allow).
	var refer errorBody
	if code := s.call("POST", base+"/referral", "", map[string]any{"request_id": "rf-1", "decision": "refer", "operator": "alice", "reason": "no contact"}, &refer); code != http.StatusConflict ||
		refer.Error.Code != "conflict" || !strings.Contains(refer.Error.Message, "no legal referral was raised") {
		t.Errorf("referral decision with none raised: %d %+v; want 409 saying no legal referral was raised", code, refer)
	}
	var writeOff errorBody
	if code := s.call("POST", base+"/write-off", "", map[string]any{"request_id": "wo-1", "decision": "approve", "operator": "alice", "reason": "uncollectable"}, &writeOff); code != http.StatusConflict ||
		writeOff.Error.Code != "conflict" || !strings.Contains(writeOff.Error.Message, "no write-off decision is pending") {
		t.Errorf("write-off decision with none pending: %d %+v; want 409 saying no write-off decision is pending", code, writeOff)
	}
	// A promise to pay by yesterday is refused by the collection rules:
	// 422 with the plan's reply.
	var past refusedBody
	if code := s.call("POST", base+"/promises", "", map[string]any{"request_id": "pr-past", "date": cs.Today.AddDays(-1).String(), "amount": "100.00"}, &past); code != http.StatusUnprocessableEntity ||
		past.Error.Code != "refused" || !strings.Contains(past.Error.Message, "in the past") || past.Reply.Accepted || past.Reply.RequestID != "pr-past" {
		t.Errorf("promise by %s: %d %+v; want 422 refused, the date in the past", cs.Today.AddDays(-1), code, past)
	}

	// The debtor pays what is owed today: the arrears are cleared.
	now := s.collectionStatus(id)
	if now.AsOf != now.Today || !now.OwedTotal.IsPositive() {
		t.Fatalf("owed %s as of %s on %s; want what is owed today", now.OwedTotal, now.AsOf, now.Today)
	}
	var paid plan.Reply
	if code := s.call("POST", base+"/payments", "", map[string]any{"payment_id": "arrears-1", "amount": now.OwedTotal.StringFixed(2), "source": "manual"}, &paid); code != http.StatusOK || !paid.Accepted {
		t.Fatalf("pay the %s owed: %d %+v; want 200, accepted", now.OwedTotal, code, paid)
	}
	t.Logf("paid %s after the grace was asked for", time.Since(grantedAt).Round(time.Millisecond))
	after := s.waitCollection(id, "collection stopped", 5*time.Second, func(cs plan.CollectionStatus) bool { return !cs.Collecting && cs.Stage == "M0" })
	if after.Bucket != "M0" || after.DaysPastDue != 0 || after.Next.Action != "current" || !after.OwedTotal.IsZero() {
		t.Errorf("after the payment: bucket %s, %d days past due, next %+v, owed %s; want M0, current, nothing owed", after.Bucket, after.DaysPastDue, after.Next, after.OwedTotal)
	}
	if st := s.planStatus(id); st.Bucket != "M0" || st.DaysPastDue != 0 || st.State != plan.StateActive || st.PaidInstallments != 1 {
		t.Errorf("status after the payment: %s, bucket %s, %d days past due, %d instalments paid; want active, M0, the first paid", st.State, st.Bucket, st.DaysPastDue, st.PaidInstallments)
	}

	s.wantRows(id, []rowCheck{
		{"grace stored", `SELECT count(*) FROM grace_extensions WHERE plan_id = $1 AND request_id = 'gx-1' AND until = '` + until.String() + `' AND operator = 'alice'`, 1},
		{"grace completed", `SELECT count(*) FROM requests WHERE plan_id = $1 AND request_id = 'gx-1' AND kind = 'grace_extension' AND status = 'completed'`, 1},
		{"refused decisions not recorded", `SELECT count(*) FROM requests WHERE plan_id = $1 AND request_id IN ('rf-1', 'wo-1')`, 0},
		{"past promise rejected", `SELECT count(*) FROM requests WHERE plan_id = $1 AND request_id = 'pr-past' AND status = 'rejected'`, 1},
		{"no promise stored", `SELECT count(*) FROM promises WHERE plan_id = $1`, 0},
		{"payment stored", `SELECT count(*) FROM payments WHERE plan_id = $1 AND payment_id = 'arrears-1' AND source = 'manual' AND amount = ` + now.OwedTotal.StringFixed(2), 1},
		{"no referral or write-off", `SELECT count(*) FROM collection_actions WHERE plan_id = $1 AND kind IN ('legal_referral', 'write_off')`, 0},
	})
	var raw json.RawMessage
	if code := s.call("GET", base+"/collection", "", nil, &raw); code != http.StatusOK {
		t.Fatalf("GET collection: %d", code)
	}
	t.Logf("scenario took %s; collection at the end: %s", time.Since(start).Round(time.Millisecond), raw)
}
