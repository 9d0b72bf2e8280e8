package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/internal/histories"
	"github.com/fenqi/fenqi/internal/testenv"
	"github.com/fenqi/fenqi/plan"
)

// The customer requests of an active plan through the API, against the
// real Temporal dev server and PostgreSQL: quote, then confirm; the
// refusals and their status codes; what the back office sees in the
// database. The plans run on the real calendar (the API refuses
// settings from applicants), so nothing falls due while the tests run.

var (
	moneyRE = regexp.MustCompile(`^-?[0-9]+\.[0-9]{2}$`)
	rateRE  = regexp.MustCompile(`^-?[0-9]+\.[0-9]{4}$`)
)

// activePlan applies for 6000.00 over 6 months for the strong customer,
// signs the first offer and, when fund is not empty, puts fund on the
// plan's funding account (as `starter fund` does). It returns the plan id.
func (s *system) activePlan(fund string) string {
	s.t.Helper()
	id := s.applyOffered("strong")
	s.activate(id)
	if fund != "" {
		s.fund(id, fund)
	}
	return id
}

// fund puts amount on the plan's funding account.
func (s *system) fund(id, amount string) {
	s.t.Helper()
	ctx := context.Background()
	p, err := s.store.GetPlan(ctx, uuid.MustParse(id))
	if err != nil {
		s.t.Fatalf("load plan %s: %v", id, err)
	}
	if _, err := s.store.Fund(ctx, p.FundingAccountID, decimal.RequireFromString(amount), "fund-"+uuid.NewString()); err != nil {
		s.t.Fatalf("fund plan %s: %v", id, err)
	}
}

// planStatus reads GET /v1/plans/{id}.
func (s *system) planStatus(id string) plan.Status {
	s.t.Helper()
	var st plan.Status
	if code := s.call("GET", "/v1/plans/"+id, "", nil, &st); code != http.StatusOK {
		s.t.Fatalf("status of %s: %d", id, code)
	}
	return st
}

// post sends a POST and returns the status code, the raw body and the
// reply decoded from it.
func (s *system) post(path, idemKey string, body any) (int, json.RawMessage, plan.Reply) {
	s.t.Helper()
	var raw json.RawMessage
	code := s.call("POST", path, idemKey, body, &raw)
	var reply plan.Reply
	if code == http.StatusOK {
		if err := json.Unmarshal(raw, &reply); err != nil {
			s.t.Fatalf("POST %s: decode reply %s: %v", path, raw, err)
		}
	}
	return code, raw, reply
}

// mustQuote asks for an eligible quote and returns the reply.
func (s *system) mustQuote(path, idemKey string, body any) (plan.Reply, json.RawMessage) {
	s.t.Helper()
	code, raw, reply := s.post(path, idemKey, body)
	if code != http.StatusOK || !reply.Accepted || reply.Quote == nil || !reply.Quote.Eligible || reply.Quote.ID == "" {
		s.t.Fatalf("quote %s %v: %d %s; want 200 with an eligible quote", path, body, code, raw)
	}
	s.wantWireQuote(path, raw)
	return reply, raw
}

// mustConfirm confirms a quote and returns the reply.
func (s *system) mustConfirm(path, idemKey string, body map[string]any) (plan.Reply, json.RawMessage) {
	s.t.Helper()
	code, raw, reply := s.post(path, idemKey, body)
	if code != http.StatusOK || !reply.Accepted || reply.Quote == nil || reply.Quote.ID != body["quote_id"] {
		s.t.Fatalf("confirm %s %v: %d %s; want 200, accepted, with the quote confirmed", path, body, code, raw)
	}
	return reply, raw
}

// wantWireQuote checks the reply's quote as a front-end reads it: money
// as strings with 2 decimals, annualised rates with 4.
func (s *system) wantWireQuote(what string, raw json.RawMessage) {
	s.t.Helper()
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		s.t.Fatal(err)
	}
	if r, ok := body["reply"].(map[string]any); ok { // a 422
		body = r
	}
	q, ok := body["quote"].(map[string]any)
	if !ok {
		s.t.Fatalf("%s: no quote in %s", what, raw)
	}
	wantStrings := func(where string, m map[string]any, re *regexp.Regexp, keys ...string) {
		for _, k := range keys {
			v, ok := m[k].(string)
			if !ok || !re.MatchString(v) {
				s.t.Errorf("%s: %s.%s = %#v, want a string matching %s", what, where, k, m[k], re)
			}
		}
	}
	for _, k := range []string{"id", "summary", "eligible", "expires_at", "before", "after"} {
		if _, ok := q[k]; !ok {
			s.t.Errorf("%s: quote key %q missing in %s", what, k, raw)
		}
	}
	wantStrings("quote", q, moneyRE, "due_now", "fee", "capitalised", "paid_ahead", "penalty", "instalment", "total_payable")
	for _, side := range []string{"before", "after"} {
		f, _ := q[side].(map[string]any)
		wantStrings(side, f, moneyRE, "instalment", "remaining")
		wantStrings(side, f, rateRE, "apr_nominal", "apr_effective")
	}
	if st, ok := q["settlement"].(map[string]any); ok {
		wantStrings("settlement", st, moneyRE, "principal", "interest", "fee", "penalty", "charge", "total", "past_due")
	}
	rows, _ := q["schedule"].([]any)
	for i, r := range rows {
		row, _ := r.(map[string]any)
		wantStrings(fmt.Sprintf("schedule row %d", i+1), row, moneyRE, "principal", "interest", "fee", "payment", "balance")
	}
	waived, _ := q["waived"].([]any)
	for _, w := range waived {
		part, _ := w.(map[string]any)
		wantStrings("waived", part, moneyRE, "amount")
	}
}

// refusedBody is a 422: the error and the plan's reply.
type refusedBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
	Reply plan.Reply `json:"reply"`
}

// waitClosed polls the status until the plan is closed.
func (s *system) waitClosed(id string) plan.Status {
	s.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		st := s.planStatus(id)
		if st.State == plan.StateClosed {
			return st
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("plan %s is %s after 15s, want closed", id, st.State)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// wantRows checks counts of database rows about plan id.
func (s *system) wantRows(id string, checks []rowCheck) {
	s.t.Helper()
	pid := uuid.MustParse(id)
	for _, c := range checks {
		if got := s.count(c.sql, pid); got != c.want {
			s.t.Errorf("%s: got %d, want %d", c.what, got, c.want)
		}
	}
}

type rowCheck struct {
	what string
	sql  string
	want int
}

// TestCancelLumpSumThroughTheAPI quotes a cancellation in one lump sum,
// is refused while the account cannot pay it and for fewer terms than
// there are left, confirms the quote and sees the plan close as cancelled
// and settled; a retried POST is answered with the first body, an unknown
// quote is refused.
func TestCancelLumpSumThroughTheAPI(t *testing.T) {
	s := startSystem(t)
	id := s.activePlan("")
	path := "/v1/plans/" + id + "/cancel"
	before := s.planStatus(id)
	if before.State != plan.StateActive || before.ScheduleVersion != 1 || before.TotalInstallments < 2 {
		t.Fatalf("status after signing: %s, schedule v%d, %d instalments", before.State, before.ScheduleVersion, before.TotalInstallments)
	}

	// Fewer terms than there are left is not fewer: 422 with the quote
	// and why.
	var refused refusedBody
	code := s.call("POST", path, "", map[string]any{"request_id": "cf-all", "mode": "fewer-terms", "terms": before.TotalInstallments}, &refused)
	if code != http.StatusUnprocessableEntity || refused.Error.Code != "refused" || refused.Reply.Accepted {
		t.Fatalf("cancel to %d terms of %d: %d %+v, want 422 refused", before.TotalInstallments, before.TotalInstallments, code, refused)
	}
	if q := refused.Reply.Quote; q == nil || q.Eligible || q.Refusal == "" || refused.Error.Message != q.Refusal {
		t.Fatalf("cancel to as many terms: quote %+v, message %q; want an ineligible quote whose refusal is the message", q, refused.Error.Message)
	}
	// A lump sum while the account is empty: refused with what to do.
	refused = refusedBody{}
	code = s.call("POST", path, "", map[string]any{"request_id": "c-empty", "mode": "lump-sum"}, &refused)
	if code != http.StatusUnprocessableEntity || refused.Reply.Quote == nil || refused.Reply.Quote.Eligible || !strings.Contains(refused.Error.Message, "top it up") {
		t.Fatalf("lump sum with an empty account: %d %+v, want 422 asking to top up", code, refused)
	}

	s.fund(id, "10000.00")
	quoteKey := "cancel-q-" + uuid.NewString()
	quote, quoteRaw := s.mustQuote(path, quoteKey, map[string]any{"mode": "lump-sum"})
	q := quote.Quote
	if q.Kind != plan.MsgCancel || q.RequestID != quoteKey || !q.DueNow.IsPositive() || q.Settlement == nil || !q.Settlement.Total.Equal(q.DueNow) {
		t.Fatalf("lump-sum quote %+v, want a settlement due now", q)
	}
	if !q.Settlement.Principal.Equal(before.OutstandingPrincipal) {
		t.Errorf("settlement principal %s, want the outstanding principal %s", q.Settlement.Principal, before.OutstandingPrincipal)
	}
	if code, again, _ := s.post(path, quoteKey, map[string]any{"mode": "lump-sum"}); code != http.StatusOK || string(again) != string(quoteRaw) {
		t.Fatalf("the quote retried under its key: %d %s, want 200 and the first body %s", code, again, quoteRaw)
	}
	if st := s.planStatus(id); st.ScheduleVersion != 1 || st.Revision != before.Revision || st.State != plan.StateActive {
		t.Fatalf("after the quote: %s, schedule v%d revision %d; a quote changes nothing", st.State, st.ScheduleVersion, st.Revision)
	}

	// A quote the plan never made is refused by the plan before it is
	// applied: 409, naming the quote.
	var unknown errorBody
	if code := s.call("POST", path, "", map[string]any{"request_id": "c-unknown", "quote_id": "q-000000000000"}, &unknown); code != http.StatusConflict ||
		unknown.Error.Code != "conflict" || !strings.Contains(unknown.Error.Message, "no quote q-000000000000") {
		t.Fatalf("confirming a made-up quote: %d %+v, want 409 naming the quote", code, unknown)
	}
	// A quote of another kind is refused too.
	var wrongKind errorBody
	if code := s.call("POST", "/v1/plans/"+id+"/prepay", "", map[string]any{"request_id": "p-wrong", "quote_id": q.ID}, &wrongKind); code != http.StatusUnprocessableEntity ||
		!strings.Contains(wrongKind.Error.Message, "is for cancel") {
		t.Fatalf("confirming the cancel quote as a prepayment: %d %+v, want 422 naming the kind", code, wrongKind)
	}

	confirmKey := "cancel-c-" + uuid.NewString()
	confirm, confirmRaw := s.mustConfirm(path, confirmKey, map[string]any{"quote_id": q.ID})
	if confirm.RequestID != confirmKey || confirm.ScheduleVersion != 2 {
		t.Errorf("confirmation %+v, want request %s and schedule v2", confirm, confirmKey)
	}
	st := s.waitClosed(id)
	if st.CloseReason != "cancelled and settled" || st.ScheduleVersion != 2 {
		t.Errorf("closed plan: %q, schedule v%d; want cancelled and settled, v2", st.CloseReason, st.ScheduleVersion)
	}
	// The confirmation retried under its key (its answer was lost, say)
	// gets the first answer, even though the plan has closed since.
	code, again, _ := s.post(path, confirmKey, map[string]any{"quote_id": q.ID})
	if code != http.StatusOK || string(again) != string(confirmRaw) {
		t.Errorf("the confirmation retried under its key after the plan closed: %d %s; want 200 and the first body %s", code, again, confirmRaw)
	}

	s.wantRows(id, []rowCheck{
		{"plan closed", `SELECT count(*) FROM plans WHERE id = $1 AND state = 'closed'`, 1},
		{"schedule versions (the first kept)", `SELECT count(*) FROM schedule_versions WHERE plan_id = $1`, 2},
		{"v2 made by the cancellation", `SELECT count(*) FROM schedule_versions WHERE plan_id = $1 AND version = 2 AND reason = 'cancel' AND request_id = '` + confirmKey + `'`, 1},
		{"refused quotes recorded", `SELECT count(*) FROM requests WHERE plan_id = $1 AND kind = 'cancel' AND request_id IN ('cf-all', 'c-empty') AND status = 'rejected'`, 2},
		{"quote and confirmation completed", `SELECT count(*) FROM requests WHERE plan_id = $1 AND kind = 'cancel' AND request_id IN ('` + quoteKey + `', '` + confirmKey + `') AND status = 'completed'`, 2},
		{"unknown quote not recorded", `SELECT count(*) FROM requests WHERE plan_id = $1 AND request_id = 'c-unknown'`, 0},
		{"one lump-sum debit", `SELECT count(*) FROM account_entries e JOIN plans p ON p.funding_account_id = e.account_id WHERE p.id = $1 AND e.kind = 'debit' AND e.idempotency_key LIKE 'change:%'`, 1},
		{"debited the quote", `SELECT count(*) FROM account_entries e JOIN plans p ON p.funding_account_id = e.account_id WHERE p.id = $1 AND e.kind = 'debit' AND e.amount = ` + q.DueNow.StringFixed(2), 1},
		{"credit line released", `SELECT count(*) FROM credit_lines cl JOIN plans p ON p.customer_id = cl.customer_id WHERE p.id = $1 AND cl.used = 0`, 1},
		{"change and close audited", `SELECT count(DISTINCT action) FROM audit_log WHERE plan_id = $1 AND action IN ('schedule.changed', 'plan.closed')`, 2},
	})
	histories.Record(t, testenv.TemporalClient(t), plan.WorkflowID(uuid.MustParse(id)), "requests-cancel-lump-sum")
}

// TestRestructureApprovalThroughTheAPI restructures to far more
// instalments than are left, which needs an operator: confirmed, it
// waits (awaiting_approval in the status, a task in the database); the
// operator approves through /approvals and the new schedule applies.
func TestRestructureApprovalThroughTheAPI(t *testing.T) {
	s := startSystem(t)
	id := s.activePlan("")
	path := "/v1/plans/" + id + "/restructure"
	before := s.planStatus(id)
	terms := before.TotalInstallments + 18

	quote, _ := s.mustQuote(path, "", map[string]any{"request_id": "rs-q", "terms": terms, "reason": "reduced hours"})
	q := quote.Quote
	if !q.NeedsApproval || len(q.Schedule) != terms || q.After.Instalments != terms || !q.After.Instalment.LessThan(q.Before.Instalment) {
		t.Fatalf("restructure quote: needs approval %v, %d rows, %d instalments after, instalment %s -> %s; want %d rows needing approval and a lower instalment",
			q.NeedsApproval, len(q.Schedule), q.After.Instalments, q.Before.Instalment, q.After.Instalment, terms)
	}
	// Nothing awaits approval yet.
	var early errorBody
	if code := s.call("POST", "/v1/plans/"+id+"/approvals", "", map[string]any{"request_id": "ap-early", "quote_id": q.ID, "approve": true, "operator": "alice"}, &early); code != http.StatusConflict ||
		!strings.Contains(early.Error.Message, "awaits approval") {
		t.Fatalf("approval before the confirmation: %d %+v, want 409", code, early)
	}

	confirm, _ := s.mustConfirm(path, "rs-c", map[string]any{"quote_id": q.ID})
	if !strings.Contains(confirm.Reason, "operator") || confirm.ScheduleVersion != 1 {
		t.Errorf("confirmation %+v, want accepted, waiting for an operator, schedule still v1", confirm)
	}
	waiting := s.planStatus(id)
	if waiting.AwaitingApproval == nil || waiting.AwaitingApproval.ID != q.ID || waiting.ScheduleVersion != 1 {
		t.Fatalf("status while waiting: awaiting %+v, schedule v%d; want quote %s awaiting, v1", waiting.AwaitingApproval, waiting.ScheduleVersion, q.ID)
	}
	s.wantRows(id, []rowCheck{
		{"approval task open", `SELECT count(*) FROM tasks WHERE plan_id = $1 AND kind = 'request_approval' AND status = 'open'`, 1},
		{"confirmation accepted, not completed", `SELECT count(*) FROM requests WHERE plan_id = $1 AND request_id = 'rs-c' AND kind = 'restructure' AND status = 'accepted'`, 1},
		{"one schedule version while waiting", `SELECT count(*) FROM schedule_versions WHERE plan_id = $1`, 1},
	})

	var approved plan.Reply
	if code := s.call("POST", "/v1/plans/"+id+"/approvals", "ap-1", map[string]any{"quote_id": q.ID, "approve": true, "operator": "alice"}, &approved); code != http.StatusOK ||
		!approved.Accepted || approved.ScheduleVersion != 2 {
		t.Fatalf("approval: %d %+v, want 200, applied as schedule v2", code, approved)
	}
	st := s.planStatus(id)
	if st.AwaitingApproval != nil || st.ScheduleVersion != 2 || st.State != plan.StateActive || st.TotalInstallments != terms {
		t.Fatalf("status after approval: awaiting %+v, schedule v%d, %s, %d instalments; want none, v2, active, %d", st.AwaitingApproval, st.ScheduleVersion, st.State, st.TotalInstallments, terms)
	}
	s.wantRows(id, []rowCheck{
		{"schedule versions", `SELECT count(*) FROM schedule_versions WHERE plan_id = $1`, 2},
		{"v2 rows", `SELECT count(*) FROM instalments WHERE plan_id = $1 AND schedule_version = 2`, terms},
		{"plan on v2", `SELECT count(*) FROM plans WHERE id = $1 AND schedule_version = 2`, 1},
		{"approval task done", `SELECT count(*) FROM tasks WHERE plan_id = $1 AND kind = 'request_approval' AND status = 'done'`, 1},
		{"quote and confirmation completed", `SELECT count(*) FROM requests WHERE plan_id = $1 AND kind = 'restructure' AND request_id IN ('rs-q', 'rs-c') AND status = 'completed'`, 2},
	})
	histories.Record(t, testenv.TemporalClient(t), plan.WorkflowID(uuid.MustParse(id)), "requests-restructure-approved")
}

// TestHolidayPrepayWaiveComplaintThroughTheAPI makes, on one plan, a
// payment holiday, a partial early repayment and an operator's waiver,
// each quoted then confirmed, then files a complaint and resolves it.
func TestHolidayPrepayWaiveComplaintThroughTheAPI(t *testing.T) {
	s := startSystem(t)
	id := s.activePlan("5000.00")
	base := "/v1/plans/" + id
	before := s.planStatus(id)

	// A payment holiday of 2 instalments.
	hq, _ := s.mustQuote(base+"/holiday", "h-q", map[string]any{"periods": 2, "reason": "hospital stay"})
	holidays := 0
	for _, r := range hq.Quote.Schedule {
		if r.Holiday {
			holidays++
		}
	}
	if holidays != 2 || hq.Quote.After.Instalments != before.TotalInstallments {
		t.Errorf("holiday quote: %d holiday rows, %d instalments after; want 2 and %d", holidays, hq.Quote.After.Instalments, before.TotalInstallments)
	}
	if hc, _ := s.mustConfirm(base+"/holiday", "h-c", map[string]any{"quote_id": hq.Quote.ID}); hc.ScheduleVersion != 2 {
		t.Errorf("holiday confirmed: schedule v%d, want v2", hc.ScheduleVersion)
	}

	// A partial early repayment of 3000.00 shortening the term: the
	// schedule's first row is collected now, fewer instalments follow.
	pq, _ := s.mustQuote(base+"/prepay", "p-q", map[string]any{"amount": "3000.00", "reduce": "term"})
	if !pq.Quote.DueNow.Equal(decimal.RequireFromString("3000.00")) || len(pq.Quote.Schedule) == 0 || pq.Quote.Schedule[0].DueDate != pq.Quote.AsOf {
		t.Fatalf("prepay quote: due now %s, schedule %+v; want 3000.00 collected on %s", pq.Quote.DueNow, pq.Quote.Schedule, pq.Quote.AsOf)
	}
	if left := len(pq.Quote.Schedule) - 1; left >= pq.Quote.Before.Instalments {
		t.Errorf("prepay to a shorter term: %d instalments after the repayment, %d before; want fewer", left, pq.Quote.Before.Instalments)
	}
	if pc, _ := s.mustConfirm(base+"/prepay", "p-c", map[string]any{"quote_id": pq.Quote.ID, "amount": "3000.00", "reduce": "term"}); pc.ScheduleVersion != 3 {
		t.Errorf("prepay confirmed: schedule v%d, want v3", pc.ScheduleVersion)
	}

	// An operator waives 20.00 of interest. (The confirmation repeats the
	// reason: see TestWaiverConfirmedWithTheQuoteIDOnly.)
	wq, _ := s.mustQuote(base+"/waive", "w-q", map[string]any{"component": "interest", "amount": "20.00", "reason": "goodwill", "operator": "alice"})
	waived := decimal.Zero
	for _, w := range wq.Quote.Waived {
		waived = waived.Add(w.Amount)
	}
	if !waived.Equal(decimal.RequireFromString("20.00")) {
		t.Errorf("waiver quote spreads %s (%+v), want 20.00", waived, wq.Quote.Waived)
	}
	if wc, _ := s.mustConfirm(base+"/waive", "w-c", map[string]any{"quote_id": wq.Quote.ID, "operator": "alice", "reason": "goodwill"}); wc.ScheduleVersion != 3 {
		t.Errorf("waiver confirmed: schedule v%d, want v3 (a waiver keeps the schedule)", wc.ScheduleVersion)
	}

	// A complaint, then its resolution.
	var filed plan.Reply
	if code := s.call("POST", base+"/complaints", "cp-1", map[string]any{"text": "I was called three times today"}, &filed); code != http.StatusOK || !filed.Accepted || filed.RequestID != "cp-1" {
		t.Fatalf("complaint: %d %+v", code, filed)
	}
	open := s.planStatus(id)
	if len(open.Complaints) != 1 || open.Complaints[0].RequestID != "cp-1" || open.ContactPausedUntil.IsZero() {
		t.Fatalf("status with a complaint: complaints %+v, paused until %s; want cp-1 open and contact paused", open.Complaints, open.ContactPausedUntil)
	}
	var resolved plan.Reply
	if code := s.as(bobToken).call("POST", base+"/complaints/cp-1/resolve", "", map[string]any{"request_id": "rs-1", "resolution": "one call a day at most", "operator": "bob"}, &resolved); code != http.StatusOK || !resolved.Accepted {
		t.Fatalf("resolve: %d %+v", code, resolved)
	}
	var again errorBody
	if code := s.as(bobToken).call("POST", base+"/complaints/cp-1/resolve", "", map[string]any{"request_id": "rs-2", "resolution": "again", "operator": "bob"}, &again); code != http.StatusConflict ||
		!strings.Contains(again.Error.Message, "no open complaint cp-1") {
		t.Errorf("resolving it again: %d %+v, want 409", code, again)
	}
	st := s.planStatus(id)
	if len(st.Complaints) != 0 || st.State != plan.StateActive || st.ScheduleVersion != 3 {
		t.Errorf("status after the resolution: complaints %+v, %s, schedule v%d; want none, active, v3", st.Complaints, st.State, st.ScheduleVersion)
	}

	s.wantRows(id, []rowCheck{
		{"schedule versions", `SELECT count(*) FROM schedule_versions WHERE plan_id = $1`, 3},
		{"holiday then prepay", `SELECT count(*) FROM schedule_versions WHERE plan_id = $1 AND ((version = 2 AND reason = 'holiday') OR (version = 3 AND reason = 'prepay'))`, 2},
		{"holiday rows in v2", `SELECT count(*) FROM instalments WHERE plan_id = $1 AND schedule_version = 2 AND holiday`, 2},
		{"requests completed", `SELECT count(*) FROM requests WHERE plan_id = $1 AND status = 'completed' AND (kind, request_id) IN
			(('pause', 'h-q'), ('pause', 'h-c'), ('early_repayment', 'p-q'), ('early_repayment', 'p-c'), ('relief', 'w-q'), ('relief', 'w-c'),
			 ('complaint', 'cp-1'), ('complaint_resolution', 'rs-1'))`, 8},
		{"waiver by alice", `SELECT count(*) FROM (SELECT sum(amount) s FROM waivers WHERE plan_id = $1 AND operator = 'alice' AND component = 'interest') w WHERE s = 20.00`, 1},
		{"waived on v3", `SELECT count(*) FROM (SELECT sum(waived_interest) s FROM instalments WHERE plan_id = $1 AND schedule_version = 3) w WHERE s = 20.00`, 1},
		{"prepayment debited", `SELECT count(*) FROM account_entries e JOIN plans p ON p.funding_account_id = e.account_id WHERE p.id = $1 AND e.kind = 'debit' AND e.amount = 3000.00`, 1},
		{"complaint resolved", `SELECT count(*) FROM complaints WHERE plan_id = $1 AND request_id = 'cp-1' AND status = 'resolved' AND resolution = 'one call a day at most'`, 1},
		{"complaint task done", `SELECT count(*) FROM tasks WHERE plan_id = $1 AND kind = 'complaint' AND status = 'done'`, 1},
		{"resolution sent to the customer", `SELECT count(*) FROM contacts WHERE plan_id = $1 AND contact_key LIKE '%resolved:cp-1%'`, 1},
	})
	histories.Record(t, testenv.TemporalClient(t), plan.WorkflowID(uuid.MustParse(id)), "requests-holiday-prepay-waive-complaint")
}

// postWithin is post with a deadline: it returns an error when the API
// has not answered within d.
func (s *system) postWithin(d time.Duration, path, idemKey string, body any) (int, json.RawMessage, error) {
	s.t.Helper()
	raw, err := json.Marshal(body)
	if err != nil {
		s.t.Fatal(err)
	}
	req, err := http.NewRequest("POST", s.http.URL+path, strings.NewReader(string(raw)))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if idemKey != "" {
		req.Header.Set("Idempotency-Key", idemKey)
	}
	if s.token != "" {
		req.Header.Set("Authorization", bearer(s.token))
	}
	resp, err := (&http.Client{Timeout: d}).Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var out json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return resp.StatusCode, nil, err
	}
	return resp.StatusCode, out, nil
}

// stuckOn describes the plan's pending activities: what it is retrying
// and why.
func (s *system) stuckOn(id string) string {
	s.t.Helper()
	desc, err := s.client.DescribeWorkflowExecution(context.Background(), plan.WorkflowID(uuid.MustParse(id)), "")
	if err != nil {
		return "describe: " + err.Error()
	}
	var parts []string
	for _, pa := range desc.PendingActivities {
		msg := ""
		if f := pa.GetLastFailure(); f != nil {
			msg = f.GetMessage()
		}
		parts = append(parts, fmt.Sprintf("%s attempt %d: %s", pa.GetActivityType().GetName(), pa.GetAttempt(), msg))
	}
	if len(parts) == 0 {
		return "no pending activity"
	}
	return strings.Join(parts, "; ")
}

// TestWaiverConfirmedWithTheQuoteIDOnly confirms a waiver the way the API
// documents a confirmation ({"quote_id": ...}, with the operator the
// request needs) and `starter waive --quote` prints it (`--confirm ID
// --operator NAME`): without repeating the reason, which the request's
// validation allows. The plan must answer, and apply the waiver with the
// reason given with the quote.
func TestWaiverConfirmedWithTheQuoteIDOnly(t *testing.T) {
	s := startSystem(t)
	id := s.activePlan("")
	path := "/v1/plans/" + id + "/waive"
	wq, _ := s.mustQuote(path, "w-q", map[string]any{"component": "interest", "amount": "20.00", "reason": "goodwill", "operator": "alice"})

	code, raw, err := s.postWithin(5*time.Second, path, "w-c", map[string]any{"quote_id": wq.Quote.ID, "operator": "alice"})
	if err != nil {
		t.Fatalf("confirming waiver quote %s with its id (no reason repeated): no answer in 5s (%v); the plan is stuck retrying: %s", wq.Quote.ID, err, s.stuckOn(id))
	}
	var reply plan.Reply
	_ = json.Unmarshal(raw, &reply)
	if code != http.StatusOK || !reply.Accepted {
		t.Fatalf("confirming waiver quote %s with its id: %d %s, want 200 accepted", wq.Quote.ID, code, raw)
	}
	s.wantRows(id, []rowCheck{
		{"waiver with the quote's reason", `SELECT count(*) FROM (SELECT sum(amount) s FROM waivers WHERE plan_id = $1 AND reason = 'goodwill') w WHERE s = 20.00`, 1},
	})
}

// TestPrepayQuoteAfterFigures checks the quote's "after" figures of a
// partial repayment describe the plan left once the money due now is
// paid, as its remaining and its summary do: the settlement row collected
// now (the schedule's first row, due on as_of) is not one of the
// instalments left.
func TestPrepayQuoteAfterFigures(t *testing.T) {
	s := startSystem(t)
	id := s.activePlan("5000.00")
	pq, _ := s.mustQuote("/v1/plans/"+id+"/prepay", "p-q", map[string]any{"amount": "3000.00", "reduce": "term"})
	q := pq.Quote
	if len(q.Schedule) < 2 || q.Schedule[0].DueDate != q.AsOf || !q.Schedule[0].Payment.Equal(q.DueNow) {
		t.Fatalf("prepay quote schedule %+v, want the repayment due now first", q.Schedule)
	}
	left, remaining := 0, decimal.Zero
	for _, r := range q.Schedule[1:] {
		left++
		remaining = remaining.Add(r.Payment)
	}
	if !q.After.Remaining.Equal(remaining) {
		t.Errorf("after.remaining %s, want %s (what the instalments after the repayment collect)", q.After.Remaining, remaining)
	}
	if q.After.Instalments != left {
		t.Errorf("after.instalments %d, want %d: the quote (%q) leaves %d instalments of %s after the repayment collected now, down from %d, but says %d (the repayment counted as an instalment)",
			q.After.Instalments, left, q.Summary, left, q.After.Instalment, q.Before.Instalments, q.After.Instalments)
	}
}
