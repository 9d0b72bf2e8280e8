package workflows_test

// Time-skipping tests of the Plan workflow (issue 3's list), driving the
// real activities against a real PostgreSQL. Each test checks what a user
// would check: the replies to the messages, the status query or the
// workflow's result, and the rows in the database.

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"go.temporal.io/sdk/testsuite"

	"github.com/fenqi/fenqi/plan"
)

const week = 7 * 24 * time.Hour

// wantOffers checks an offer set: at least three, numbered from 1, each
// lending a positive amount within the credit limit.
func wantOffers(t *testing.T, s plan.Status) {
	t.Helper()
	if len(s.Offers) < 3 {
		t.Fatalf("%d offers, want at least 3: %+v", len(s.Offers), s.Offers)
	}
	if !s.CreditLimit.IsPositive() {
		t.Errorf("credit limit %s, want > 0", s.CreditLimit)
	}
	for i, o := range s.Offers {
		if o.No != i+1 {
			t.Errorf("offer %d numbered %d", i+1, o.No)
		}
		if !o.Amount.IsPositive() || o.Amount.GreaterThan(s.CreditLimit) {
			t.Errorf("offer %d lends %s, want within the credit limit %s", o.No, o.Amount, s.CreditLimit)
		}
		if o.Terms < 1 || !o.Instalment.IsPositive() || o.Label == "" {
			t.Errorf("offer %d not disclosed in full: %+v", o.No, o)
		}
	}
}

// wantDec compares a database amount (text) with want.
func wantDec(t *testing.T, what, got string, want decimal.Decimal) {
	t.Helper()
	g, err := decimal.NewFromString(got)
	if err != nil || !g.Equal(want) {
		t.Errorf("%s = %q, want %s", what, got, want.StringFixed(2))
	}
}

// 1. approve -> choose -> sign -> active.
func TestApproveChooseSignActive(t *testing.T) {
	tests := []struct {
		name, customer, amount string
		terms                  int
		channel                string
	}{
		{"strong", "strong", "30000.00", 12, "push"},
		{"average", "average", "12000.00", 12, "sms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDB(t)
			c := customer(t, tt.customer)
			r := d.newRun(application(t, "app-"+tt.name, c, tt.amount, tt.terms))

			offered := r.snapshot(time.Minute)
			chose := r.sendAt(2*time.Minute, plan.MsgChoose, choose("choose-1", 1))
			signing := r.snapshot(3 * time.Minute)
			var pending string
			r.at(3*time.Minute, func() {
				pending = d.text(`SELECT status FROM agreements WHERE plan_id = $1 AND version = 1`, r.id)
			})
			signed := r.signAt(4*time.Minute, "sign-1")
			active := r.snapshot(5 * time.Minute)
			r.stopAt(6 * time.Minute)
			r.execute()
			r.wantCanceled()

			// Offers.
			if offered.State != plan.StateOffered || offered.OfferRound != 0 || offered.CounterRoundsMax != 3 {
				t.Fatalf("after assessment: state %s round %d of %d, want offered round 0 of 3", offered.State, offered.OfferRound, offered.CounterRoundsMax)
			}
			wantOffers(t, *offered)
			if want := t0.Add(week); !offered.OffersExpireAt.Equal(want) {
				t.Errorf("offers expire at %s, want %s", offered.OffersExpireAt, want)
			}
			offer := offered.Offers[0]

			// Choosing.
			cr := chose.wantReply(t)
			if !cr.Accepted || cr.State != plan.StateSigning || cr.RequestID != "choose-1" || len(cr.AgreementHash) != 64 {
				t.Errorf("choose reply %+v, want accepted, signing, with the agreement hash", cr)
			}
			if signing.State != plan.StateSigning || signing.ChosenOffer != 1 || signing.AgreementHash != cr.AgreementHash {
				t.Errorf("after choosing: state %s chosen %d hash %s, want signing, 1, %s", signing.State, signing.ChosenOffer, signing.AgreementHash, cr.AgreementHash)
			}
			if want := t0.Add(2*time.Minute + week); !signing.AgreementExpireAt.Equal(want) {
				t.Errorf("agreement expires at %s, want %s (7 days after choosing)", signing.AgreementExpireAt, want)
			}
			if pending != "pending" {
				t.Errorf("agreement status before signing %q, want pending", pending)
			}

			// Signing.
			sr := signed.wantReply(t)
			if !sr.Accepted || sr.State != plan.StateActive || sr.AgreementHash != cr.AgreementHash || sr.Reason != "" {
				t.Errorf("sign reply %+v, want accepted and active", sr)
			}
			if active.State != plan.StateActive || !active.SignedAt.Equal(t0.Add(4*time.Minute)) {
				t.Errorf("after signing: state %s signed at %s, want active at %s", active.State, active.SignedAt, t0.Add(4*time.Minute))
			}
			if len(active.Schedule) != offer.Terms || active.TotalInstallments != offer.Terms || active.PaidInstallments != 0 {
				t.Errorf("schedule of %d rows (total %d, paid %d), want %d unpaid", len(active.Schedule), active.TotalInstallments, active.PaidInstallments, offer.Terms)
			}
			if got := sumPrincipal(active.Schedule); !got.Equal(offer.Amount) || !active.OutstandingPrincipal.Equal(offer.Amount) {
				t.Errorf("schedule principal %s, outstanding %s, want %s", got, active.OutstandingPrincipal, offer.Amount)
			}
			for _, row := range active.Schedule {
				if row.Status != plan.InstalmentPending {
					t.Errorf("instalment %d is %s, want pending", row.No, row.Status)
				}
			}

			// The database.
			id := r.id
			if n := d.count(`SELECT count(*) FROM applications WHERE request_id = $1 AND amount = $2`, "app-"+tt.name, dec(tt.amount).String()); n != 1 {
				t.Errorf("applications rows for the request: %d, want 1", n)
			}
			if got := d.text(`SELECT decision || ' ' || round || ' ' || score || ' ' || credit_limit::text FROM assessments
				WHERE application_id = (SELECT application_id FROM plans WHERE id = $1)`, id); got != fmt.Sprintf("approved 1 %d %s", offered.Score, offered.CreditLimit.StringFixed(2)) {
				t.Errorf("assessment %q, want approved round 1 with score %d and limit %s", got, offered.Score, offered.CreditLimit.StringFixed(2))
			}
			if n := d.count(`SELECT count(*) FROM offers o JOIN plans p ON p.application_id = o.application_id
				WHERE p.id = $1 AND o.round = 1 AND o.amount <= $2`, id, offered.CreditLimit.String()); n != len(offered.Offers) {
				t.Errorf("round 1 offers within the limit in the database: %d, want %d", n, len(offered.Offers))
			}
			if got := d.text(`SELECT state || ' ' || schedule_version || ' ' || principal::text || ' ' || (start_date IS NOT NULL)
				FROM plans WHERE id = $1`, id); got != "active 1 "+offer.Amount.StringFixed(2)+" true" {
				t.Errorf("plan row %q, want active, schedule 1, principal %s, a start date", got, offer.Amount.StringFixed(2))
			}
			if n := d.count(`SELECT count(*) FROM plans p JOIN offers o ON o.id = p.offer_id WHERE p.id = $1 AND o.round = 1 AND o.no = 1`, id); n != 1 {
				t.Errorf("plan does not point at offer 1 of round 1")
			}
			var rows int
			var total string
			rows = d.count(`SELECT count(*) FROM instalments WHERE plan_id = $1 AND schedule_version = 1 AND status = 'pending'`, id)
			total = d.text(`SELECT sum(principal)::text FROM instalments WHERE plan_id = $1 AND schedule_version = 1`, id)
			if rows != offer.Terms {
				t.Errorf("pending instalments of schedule 1: %d, want %d", rows, offer.Terms)
			}
			wantDec(t, "sum of instalment principal", total, offer.Amount)
			// The text and the signer are sealed in the table: read them
			// through the store.
			ag, err := d.st.GetAgreement(t.Context(), id, 1)
			if err != nil || ag.Signature == nil {
				t.Fatalf("agreement: %+v %v", ag, err)
			}
			doc, hash, status := ag.Document, ag.SHA256, ag.Status
			signedHash, signer, kind, consent := ag.Signature.SignedHash, ag.Signature.SignerName, ag.Signature.Kind, ag.Signature.Consent
			if hash != cr.AgreementHash || sha256Hex(doc) != hash {
				t.Errorf("agreement sha256 %s (of its text %s), want %s", hash, sha256Hex(doc), cr.AgreementHash)
			}
			if status != "signed" || signedHash != hash || signer != c.Name || kind != "electronic" || !consent {
				t.Errorf("agreement signature: %s %s by %q %s consent %v", status, signedHash, signer, kind, consent)
			}
			if n := d.count(`SELECT count(*) FROM agreements WHERE plan_id = $1`, id); n != 1 {
				t.Errorf("%d agreements, want 1", n)
			}
			wantDec(t, "credit line used", d.text(`SELECT used::text FROM credit_lines WHERE customer_id = $1::uuid`, offered.CustomerID), offer.Amount)
			wantDec(t, "credit line limit", d.text(`SELECT credit_limit::text FROM credit_lines WHERE customer_id = $1::uuid`, offered.CustomerID), offered.CreditLimit)
			d.wantRequest(id, "choose-1", "choose_offer", "customer", "completed")
			d.wantRequest(id, "sign-1", "sign_agreement", "customer", "completed")
			if n := d.count(`SELECT count(*) FROM requests WHERE plan_id = $1`, id); n != 2 {
				t.Errorf("%d requests rows, want 2", n)
			}
			d.wantNotice(id, "application:offered", "notice", tt.channel)
			d.wantNotice(id, "agreement:1", "notice", tt.channel)
			if body := d.wantNotice(id, "schedule:1", "schedule_notice", tt.channel); !strings.Contains(body, fmt.Sprintf("%d instalments", offer.Terms)) {
				t.Errorf("schedule notice %q does not give the %d instalments", body, offer.Terms)
			}
			d.wantTransition(id, "assessing", "offered")
			d.wantTransition(id, "offered", "signing")
			d.wantAudit(id, "plan.created", "plan.credit_limit", "plan.terms", "agreement.saved", "agreement.signed",
				"schedule.saved", "plan.activated", "request.received", "request.completed", "contact.recorded")
		})
	}
}

// 2. decline.
func TestDeclined(t *testing.T) {
	d := newDB(t)
	r := d.newRun(application(t, "app-risky", customer(t, "risky"), "10000.00", 12))
	r.execute()
	s := r.result()
	if s.State != plan.StateDeclined || !s.UpdatedAt.Equal(t0) {
		t.Fatalf("state %s at %s, want declined at once", s.State, s.UpdatedAt)
	}
	if len(s.Reasons) == 0 {
		t.Fatal("declined without a reason")
	}
	for _, reason := range s.Reasons {
		if len(reason) < 10 || !strings.HasSuffix(reason, ".") || strings.ContainsAny(reason, "{}") || strings.Contains(reason, "%!") {
			t.Errorf("reason %q is not a readable sentence", reason)
		}
	}
	if len(s.Offers) != 0 || !s.CreditLimit.IsZero() || len(s.Schedule) != 0 {
		t.Errorf("declined plan has offers %v, limit %s, schedule %d", s.Offers, s.CreditLimit, len(s.Schedule))
	}
	if q := r.status(); q.State != plan.StateDeclined || strings.Join(q.Reasons, "|") != strings.Join(s.Reasons, "|") {
		t.Errorf("status query %s %q, want the result's %q", q.State, q.Reasons, s.Reasons)
	}

	d.wantFinal(r.id, plan.StateDeclined, strings.Join(s.Reasons, " "))
	if got := d.text(`SELECT decision || ':' || array_to_string(reasons, '|') FROM assessments
		WHERE application_id = (SELECT application_id FROM plans WHERE id = $1)`, r.id); got != "declined:"+strings.Join(s.Reasons, "|") {
		t.Errorf("assessment %q, want declined with the reasons", got)
	}
	if n := d.count(`SELECT count(*) FROM offers`); n != 0 {
		t.Errorf("%d offers stored for a declined application", n)
	}
	for _, table := range []string{"agreements", "requests", "credit_lines", "instalments"} {
		if n := d.count(`SELECT count(*) FROM ` + table); n != 0 {
			t.Errorf("%d %s rows for a declined application", n, table)
		}
	}
	if body := d.wantNotice(r.id, "application:declined", "notice", "sms"); !strings.Contains(body, s.Reasons[0]) {
		t.Errorf("decline notice %q does not give the reason %q", body, s.Reasons[0])
	}
	d.wantTransition(r.id, "assessing", "declined")
}

// 3. manual review: approved or declined by an operator (Update or
// Signal), or timed out.
func TestManualReview(t *testing.T) {
	approve := plan.ReviewDecision{RequestID: "rev-1", Approve: true, Operator: "alice"}
	decline := plan.ReviewDecision{RequestID: "rev-1", Reason: "income not verified", Operator: "alice"}
	timedOut := func(d time.Duration) string {
		return fmt.Sprintf("No credit decision was made within %s of the manual review; please apply again.", d)
	}
	tests := []struct {
		name     string
		settings plan.Settings
		// decideAt is when the decision is sent (0: never).
		decideAt time.Duration
		decision plan.ReviewDecision
		bySignal bool
		// want is the state the decision (or the timeout) at endAt leads to.
		want       plan.State
		wantReason string
		endAt      time.Duration
	}{
		{"approved by update", plan.Settings{}, time.Hour, approve, false, plan.StateOffered, "", time.Hour},
		{"approved by signal", plan.Settings{}, time.Hour, approve, true, plan.StateOffered, "", time.Hour},
		{"approved just before the deadline", plan.Settings{}, 47*time.Hour + 59*time.Minute, approve, false, plan.StateOffered, "", 47*time.Hour + 59*time.Minute},
		{"declined by update", plan.Settings{}, time.Hour, decline, false, plan.StateDeclined, "Declined after manual review: income not verified", time.Hour},
		{"declined by signal", plan.Settings{}, time.Hour, decline, true, plan.StateDeclined, "Declined after manual review: income not verified", time.Hour},
		{"timed out after the default 48h", plan.Settings{}, 0, plan.ReviewDecision{}, false, plan.StateDeclined, timedOut(48 * time.Hour), 48 * time.Hour},
		{"timed out after a custom 2h", plan.Settings{ReviewTimeout: 2 * time.Hour}, 0, plan.ReviewDecision{}, false, plan.StateDeclined, timedOut(2 * time.Hour), 2 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDB(t)
			r := d.newRun(application(t, "app-border", borderline(), "5000.00", 12, withSettings(tt.settings)))
			review := r.snapshot(time.Minute)
			var reviewRow string
			r.at(time.Minute, func() { reviewRow = d.planState(r.id) })
			before := r.snapshot(tt.endAt - time.Minute)
			var reply *outcome
			if tt.decideAt > 0 {
				if tt.bySignal {
					r.signalAt(tt.decideAt, plan.MsgReviewDecision, tt.decision)
				} else {
					reply = r.sendAt(tt.decideAt, plan.MsgReviewDecision, tt.decision)
				}
			}
			// An approved plan goes on (a declined one has ended).
			after := r.snapshot(tt.endAt + time.Minute)
			var afterRow string
			var afterOffers int
			r.at(tt.endAt+time.Minute, func() {
				afterRow = d.planState(r.id)
				afterOffers = d.count(`SELECT count(*) FROM offers WHERE round = 1`)
			})
			r.execute()
			res := r.result()

			// In review: an assessment with a limit, no offers yet.
			if review.State != plan.StateReview || len(review.Offers) != 0 || !review.CreditLimit.IsPositive() || review.Tier == "" {
				t.Fatalf("in review: state %s, %d offers, limit %s, tier %q", review.State, len(review.Offers), review.CreditLimit, review.Tier)
			}
			if reviewRow != "review" {
				t.Errorf("plan row in review: %s", reviewRow)
			}
			if before.State != plan.StateReview {
				t.Errorf("a minute before %s: %s, want still in review", tt.endAt, before.State)
			}
			if reply != nil {
				rp := reply.wantReply(t)
				if !rp.Accepted || rp.State != tt.want || rp.RequestID != "rev-1" {
					t.Errorf("decision reply %+v, want accepted, %s", rp, tt.want)
				}
			}
			d.wantNotice(r.id, "application:review", "notice", "email")
			if got := d.text(`SELECT decision FROM assessments WHERE round = 1`); got != "review" {
				t.Errorf("assessment decision %s, want review", got)
			}

			switch tt.want {
			case plan.StateOffered:
				if after.State != tt.want || afterRow != string(tt.want) {
					t.Fatalf("after the approval: %s (plan row %s), want offered", after.State, afterRow)
				}
				wantOffers(t, *after)
				if afterOffers != len(after.Offers) {
					t.Errorf("%d round 1 offers stored, want %d", afterOffers, len(after.Offers))
				}
				if want := t0.Add(tt.decideAt + week); !after.OffersExpireAt.Equal(want) {
					t.Errorf("offers expire at %s, want %s (7 days after the approval)", after.OffersExpireAt, want)
				}
				d.wantRequest(r.id, "rev-1", "review_decision", "operator", "completed")
				d.wantTransition(r.id, "review", "offered")
				// Nobody chooses: the offers expire a week after the approval.
				if res.State != plan.StateExpired || !res.UpdatedAt.Equal(t0.Add(tt.decideAt+week)) {
					t.Errorf("result %s at %s, want expired a week after the approval", res.State, res.UpdatedAt)
				}
			case plan.StateDeclined:
				if res.State != plan.StateDeclined || !res.UpdatedAt.Equal(t0.Add(tt.endAt)) {
					t.Errorf("result %s at %s, want declined at %s", res.State, res.UpdatedAt, t0.Add(tt.endAt))
				}
				if len(res.Reasons) != 1 || res.Reasons[0] != tt.wantReason {
					t.Errorf("reasons %q, want %q", res.Reasons, tt.wantReason)
				}
				d.wantFinal(r.id, plan.StateDeclined, tt.wantReason)
				d.wantTransition(r.id, "review", "declined")
				if body := d.wantNotice(r.id, "outcome:declined", "notice", "email"); !strings.Contains(body, tt.wantReason) {
					t.Errorf("decline notice %q does not say %q", body, tt.wantReason)
				}
				if tt.decideAt > 0 {
					d.wantRequest(r.id, "rev-1", "review_decision", "operator", "completed")
				} else if n := d.count(`SELECT count(*) FROM requests`); n != 0 {
					t.Errorf("%d requests rows after a timeout, want 0", n)
				}
				if n := d.count(`SELECT count(*) FROM offers`); n != 0 {
					t.Errorf("%d offers stored for a declined review", n)
				}
			}
		})
	}
}

// A review decision must be well formed and only a plan in review takes
// one; a customer cannot choose during the review.
func TestManualReviewValidation(t *testing.T) {
	d := newDB(t)
	r := d.newRun(application(t, "app-border", borderline(), "5000.00", 12))
	noReason := r.sendAt(time.Hour, plan.MsgReviewDecision, plan.ReviewDecision{RequestID: "rev-1", Approve: false, Operator: "alice"})
	chooses := r.sendAt(time.Hour, plan.MsgChoose, choose("choose-1", 1))
	counter := r.sendAt(time.Hour, plan.MsgCounterOffer, plan.CounterOfferRequest{RequestID: "co-1", Terms: 6})
	still := r.snapshot(2 * time.Hour)
	wd := r.sendAt(3*time.Hour, plan.MsgWithdraw, withdraw("wd-1", ""))
	r.execute()
	res := r.result()

	noReason.wantRejected(t, "reason", "is required")
	chooses.wantRejected(t, "only while the plan is offered", "review")
	counter.wantRejected(t, "only while the plan is offered", "review")
	if still.State != plan.StateReview {
		t.Errorf("after refused messages: %s, want review", still.State)
	}
	for _, rid := range []string{"rev-1", "choose-1", "co-1"} {
		d.wantNoRequest(r.id, rid)
	}
	if rp := wd.wantReply(t); !rp.Accepted || rp.State != plan.StateWithdrawn {
		t.Errorf("withdraw reply %+v", rp)
	}
	if res.State != plan.StateWithdrawn || len(res.Reasons) != 1 || res.Reasons[0] != "Withdrawn by the customer." {
		t.Errorf("result %s %q, want withdrawn by the customer", res.State, res.Reasons)
	}
}

// 4. counter-offer rounds up to the bound.
func TestCounterOfferRounds(t *testing.T) {
	type step struct {
		req plan.CounterOfferRequest
		// want: "offers" (new offer set), "refused" (a reply with a
		// reason) or "rejected" (refused by the validator).
		want   string
		reason string
		check  func(t *testing.T, o plan.Offer)
	}
	longer := func(t *testing.T, o plan.Offer) {}
	affordable := func(t *testing.T, o plan.Offer) {
		t.Helper()
		if o.Instalment.GreaterThan(dec("1500")) {
			t.Errorf("offer %d instalment %s above the 1500.00 asked for", o.No, o.Instalment)
		}
	}
	tests := []struct {
		name     string
		settings plan.Settings
		steps    []step
	}{
		{"default bound of 3", plan.Settings{}, []step{
			{plan.CounterOfferRequest{RequestID: "co-1", Terms: 24}, "offers", "", longer},
			{plan.CounterOfferRequest{RequestID: "co-2", Amount: dec("500000")}, "refused", "We cannot lend 500000.00: your credit limit is", nil},
			{plan.CounterOfferRequest{RequestID: "co-3", MaxInstalment: dec("1500")}, "offers", "", affordable},
			{plan.CounterOfferRequest{RequestID: "co-4", Terms: 6}, "rejected", "all 3 counter-offer rounds are used", nil},
		}},
		{"custom bound of 1", plan.Settings{MaxCounterRounds: 1}, []step{
			{plan.CounterOfferRequest{RequestID: "co-1", Terms: 24}, "offers", "", longer},
			{plan.CounterOfferRequest{RequestID: "co-2", Terms: 6}, "rejected", "all 1 counter-offer rounds are used", nil},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDB(t)
			r := d.newRun(application(t, "app-co", customer(t, "strong"), "30000.00", 12, withSettings(tt.settings)))
			first := r.snapshot(time.Minute)
			outcomes := make([]*outcome, len(tt.steps))
			snaps := make([]*plan.Status, len(tt.steps))
			stored := make([]int, len(tt.steps))
			beyond := make([]int, len(tt.steps)) // offers stored in a set after the current one
			for i, st := range tt.steps {
				at := time.Duration(i+1) * time.Hour
				outcomes[i] = r.sendAt(at, plan.MsgCounterOffer, st.req)
				snaps[i] = new(plan.Status)
				r.at(at+30*time.Minute, func() {
					*snaps[i] = r.status()
					// The offer set of status round n is stored as round n+1
					// (round 1 is the first set).
					stored[i] = d.count(`SELECT count(*) FROM offers WHERE round = $1`, snaps[i].OfferSet)
					beyond[i] = d.count(`SELECT count(*) FROM offers WHERE round > $1`, snaps[i].OfferSet)
				})
			}
			r.execute()
			res := r.result()

			wantOffers(t, *first)
			prev, round, lastSet := *first, 0, time.Duration(0)
			for i, st := range tt.steps {
				at := time.Duration(i+1) * time.Hour
				o, s := outcomes[i], *snaps[i]
				if st.want != "rejected" {
					round++
				}
				if s.State != plan.StateOffered || s.OfferRound != round {
					t.Fatalf("%s: state %s round %d, want offered round %d", st.req.RequestID, s.State, s.OfferRound, round)
				}
				switch st.want {
				case "offers":
					rp := o.wantReply(t)
					if !rp.Accepted || rp.Reason != "" || rp.State != plan.StateOffered || rp.OfferRound != round {
						t.Errorf("%s reply %+v, want accepted in round %d", st.req.RequestID, rp, round)
					}
					wantOffers(t, s)
					for _, of := range s.Offers {
						st.check(t, of)
					}
					if !s.OffersExpireAt.Equal(t0.Add(at + week)) {
						t.Errorf("%s: offers expire at %s, want a week after the new set", st.req.RequestID, s.OffersExpireAt)
					}
					if stored[i] != len(s.Offers) {
						t.Errorf("%s: %d offers stored as set %d, want %d", st.req.RequestID, stored[i], s.OfferSet, len(s.Offers))
					}
					d.wantRequest(r.id, st.req.RequestID, "negotiate", "customer", "completed")
					lastSet = at
				case "refused":
					rp := o.wantReply(t)
					if rp.Accepted || !strings.Contains(rp.Reason, st.reason) || rp.OfferRound != round {
						t.Errorf("%s reply %+v, want refused with %q in round %d", st.req.RequestID, rp, st.reason, round)
					}
					if len(s.Offers) != len(prev.Offers) || !s.Offers[0].Instalment.Equal(prev.Offers[0].Instalment) || !s.OffersExpireAt.Equal(prev.OffersExpireAt) {
						t.Errorf("%s: a refused counter-offer changed the offers on the table", st.req.RequestID)
					}
					if beyond[i] != 0 {
						t.Errorf("%s: %d offers stored for a refused round", st.req.RequestID, beyond[i])
					}
					d.wantRequest(r.id, st.req.RequestID, "negotiate", "customer", "rejected")
				case "rejected":
					o.wantRejected(t, st.reason)
					d.wantNoRequest(r.id, st.req.RequestID)
				}
				prev = s
			}
			if res.State != plan.StateExpired || !res.UpdatedAt.Equal(t0.Add(lastSet+week)) {
				t.Errorf("result %s at %s, want expired a week after the last offer set (%s)", res.State, res.UpdatedAt, t0.Add(lastSet+week))
			}
			if res.CounterRoundsMax != tt.settings.WithDefaults().MaxCounterRounds {
				t.Errorf("counter rounds max %d", res.CounterRoundsMax)
			}
		})
	}
}

// After a refused counter-offer the offers on the table stay, so the
// customer can still choose one of them.
func TestChooseAfterRefusedCounterOffer(t *testing.T) {
	d := newDB(t)
	r := d.newRun(application(t, "app-co", customer(t, "strong"), "30000.00", 12))
	refused := r.sendAt(time.Hour, plan.MsgCounterOffer, plan.CounterOfferRequest{RequestID: "co-1", Amount: dec("500000")})
	chose := r.sendAt(2*time.Hour, plan.MsgChoose, choose("choose-1", 1))
	signing := r.snapshot(3 * time.Hour)
	r.sendAt(4*time.Hour, plan.MsgWithdraw, withdraw("wd-1", "test over"))
	r.execute()

	if rp := refused.wantReply(t); rp.Accepted || rp.OfferRound != 1 {
		t.Fatalf("counter-offer reply %+v, want a refusal in round 1", rp)
	}
	if err := r.env.GetWorkflowError(); err != nil {
		t.Errorf("plan workflow failed after choosing an offer that was on the table: %v", err)
	}
	if !chose.complete || chose.err != nil || !chose.reply.Accepted || chose.reply.State != plan.StateSigning {
		t.Errorf("choose reply %+v (completed %v, err %v), want accepted and signing", chose.reply, chose.complete, chose.err)
	}
	if signing.State != plan.StateSigning {
		t.Errorf("after choosing: %s, want signing", signing.State)
	}
	if n := d.count(`SELECT count(*) FROM agreements WHERE plan_id = $1`, r.id); n != 1 {
		t.Errorf("%d agreements, want 1", n)
	}
}

// 5a. offers expire.
func TestOfferExpiry(t *testing.T) {
	for _, ttl := range []time.Duration{0, 48 * time.Hour} {
		want := ttl
		if want == 0 {
			want = week
		}
		t.Run(fmt.Sprintf("offer ttl %s", want), func(t *testing.T) {
			d := newDB(t)
			r := d.newRun(application(t, "app-exp", customer(t, "average"), "12000.00", 12, withSettings(plan.Settings{OfferTTL: ttl})))
			before := r.snapshot(want - time.Minute)
			r.execute()
			res := r.result()

			if before.State != plan.StateOffered {
				t.Errorf("a minute before expiry: %s, want offered", before.State)
			}
			reason := fmt.Sprintf("The offers expired at %s without a choice.", t0.Add(want).UTC().Format("2006-01-02 15:04 MST"))
			if res.State != plan.StateExpired || !res.UpdatedAt.Equal(t0.Add(want)) || len(res.Reasons) != 1 || res.Reasons[0] != reason {
				t.Errorf("result %s at %s %q, want expired at %s %q", res.State, res.UpdatedAt, res.Reasons, t0.Add(want), reason)
			}
			d.wantFinal(r.id, plan.StateExpired, reason)
			d.wantTransition(r.id, "offered", "expired")
			if body := d.wantNotice(r.id, "outcome:expired", "notice", "sms"); !strings.Contains(body, reason) {
				t.Errorf("expiry notice %q", body)
			}
			if n := d.count(`SELECT count(*) FROM offers WHERE expires_at = $1`, t0.Add(want)); n != len(res.Offers) {
				t.Errorf("%d stored offers expire at %s, want %d", n, t0.Add(want), len(res.Offers))
			}
			if n := d.count(`SELECT count(*) FROM agreements`); n != 0 {
				t.Errorf("%d agreements", n)
			}
		})
	}
}

// 5b. an agreement unsigned for the sign TTL after choosing expires (the
// offers' own expiry no longer applies once one is chosen).
func TestSignatureExpiry(t *testing.T) {
	for _, ttl := range []time.Duration{0, 24 * time.Hour} {
		want := ttl
		if want == 0 {
			want = week
		}
		t.Run(fmt.Sprintf("sign ttl %s", want), func(t *testing.T) {
			d := newDB(t)
			r := d.newRun(application(t, "app-exp", customer(t, "strong"), "30000.00", 12, withSettings(plan.Settings{SignTTL: ttl})))
			chose := r.sendAt(time.Hour, plan.MsgChoose, choose("choose-1", 2))
			before := r.snapshot(time.Hour + want - time.Minute)
			r.execute()
			res := r.result()

			if rp := chose.wantReply(t); !rp.Accepted {
				t.Fatalf("choose reply %+v", rp)
			}
			if before.State != plan.StateSigning {
				t.Errorf("a minute before the agreement expires: %s, want signing", before.State)
			}
			expireAt := t0.Add(time.Hour + want)
			reason := fmt.Sprintf("The agreement was not signed by %s.", expireAt.UTC().Format("2006-01-02 15:04 MST"))
			if res.State != plan.StateExpired || !res.UpdatedAt.Equal(expireAt) || len(res.Reasons) != 1 || res.Reasons[0] != reason {
				t.Errorf("result %s at %s %q, want expired at %s %q", res.State, res.UpdatedAt, res.Reasons, expireAt, reason)
			}
			d.wantFinal(r.id, plan.StateExpired, reason)
			d.wantTransition(r.id, "signing", "expired")
			d.wantNotice(r.id, "outcome:expired", "notice", "push")
			if n := d.count(`SELECT count(*) FROM agreements WHERE signed_at IS NULL AND expires_at = $1`, expireAt); n != 1 {
				t.Errorf("unsigned agreements expiring at %s: %d, want 1", expireAt, n)
			}
		})
	}
}

// An agreement that expired unsigned is archived as expired, not left
// pending forever.
func TestExpiredAgreementIsMarkedExpired(t *testing.T) {
	d := newDB(t)
	r := d.newRun(application(t, "app-exp", customer(t, "strong"), "30000.00", 12))
	r.sendAt(time.Hour, plan.MsgChoose, choose("choose-1", 1))
	r.execute()
	if res := r.result(); res.State != plan.StateExpired {
		t.Fatalf("result %s, want expired", res.State)
	}
	if got := d.text(`SELECT status FROM agreements WHERE plan_id = $1 AND version = 1`, r.id); got != "expired" {
		t.Errorf("agreement status after the plan expired unsigned: %q, want expired", got)
	}
}

// 6. withdraw before activation.
func TestWithdraw(t *testing.T) {
	tests := []struct {
		name     string
		customer plan.Customer
		from     plan.State
		reason   string
		bySignal bool
	}{
		{"in review", borderline(), plan.StateReview, "changed my mind", false},
		{"offered", plan.Customer{}, plan.StateOffered, "changed my mind", false},
		{"offered without a reason", plan.Customer{}, plan.StateOffered, "", false},
		{"offered by signal", plan.Customer{}, plan.StateOffered, "changed my mind", true},
		{"signing", plan.Customer{}, plan.StateSigning, "changed my mind", false},
		{"signing by signal", plan.Customer{}, plan.StateSigning, "found a cheaper loan", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDB(t)
			c, channel := tt.customer, "email"
			if c.Ref == "" {
				c, channel = customer(t, "strong"), "push"
			}
			r := d.newRun(application(t, "app-wd", c, "5000.00", 12))
			if tt.from == plan.StateSigning {
				r.sendAt(time.Hour, plan.MsgChoose, choose("choose-1", 1))
			}
			before := r.snapshot(90 * time.Minute)
			var reply *outcome
			if tt.bySignal {
				r.signalAt(2*time.Hour, plan.MsgWithdraw, withdraw("wd-1", tt.reason))
			} else {
				reply = r.sendAt(2*time.Hour, plan.MsgWithdraw, withdraw("wd-1", tt.reason))
			}
			r.execute()
			res := r.result()

			if before.State != tt.from {
				t.Fatalf("before withdrawing: %s, want %s", before.State, tt.from)
			}
			want := "Withdrawn by the customer."
			if tt.reason != "" {
				want = "Withdrawn by the customer: " + tt.reason
			}
			if reply != nil {
				if rp := reply.wantReply(t); !rp.Accepted || rp.State != plan.StateWithdrawn || rp.RequestID != "wd-1" {
					t.Errorf("withdraw reply %+v, want accepted and withdrawn", rp)
				}
			}
			if res.State != plan.StateWithdrawn || !res.UpdatedAt.Equal(t0.Add(2*time.Hour)) || len(res.Reasons) != 1 || res.Reasons[0] != want {
				t.Errorf("result %s at %s %q, want withdrawn at +2h %q", res.State, res.UpdatedAt, res.Reasons, want)
			}
			d.wantFinal(r.id, plan.StateWithdrawn, want)
			d.wantTransition(r.id, string(tt.from), "withdrawn")
			d.wantRequest(r.id, "wd-1", "withdraw", "customer", "completed")
			d.wantNotice(r.id, "outcome:withdrawn", "notice", channel)
		})
	}
}

// 6b. an active plan cannot be withdrawn.
func TestWithdrawRefusedOnceActive(t *testing.T) {
	d := newDB(t)
	r := d.newRun(application(t, "app-wd", customer(t, "strong"), "30000.00", 12))
	r.sendAt(time.Hour, plan.MsgChoose, choose("choose-1", 1))
	signed := r.signAt(2*time.Hour, "sign-1")
	refused := r.sendAt(3*time.Hour, plan.MsgWithdraw, withdraw("wd-1", "too late"))
	r.signalAt(3*time.Hour+time.Minute, plan.MsgWithdraw, withdraw("wd-2", "too late"))
	after := r.snapshot(4 * time.Hour)
	r.stopAt(5 * time.Hour)
	r.execute()
	r.wantCanceled()

	if rp := signed.wantReply(t); rp.State != plan.StateActive {
		t.Fatalf("sign reply %+v, want active", rp)
	}
	refused.wantRejected(t, "only before it is active", "active")
	if after.State != plan.StateActive || len(after.Reasons) != 0 {
		t.Errorf("after withdrawing: %s %q, want still active", after.State, after.Reasons)
	}
	if got := d.planState(r.id); got != "active" {
		t.Errorf("plan row %s, want active", got)
	}
	d.wantNoRequest(r.id, "wd-1")
	d.wantNoRequest(r.id, "wd-2")
}

// 7. a signature quoting another document is refused before it enters
// history; the plan keeps waiting for a good one.
func TestSignWithWrongHash(t *testing.T) {
	d := newDB(t)
	c := customer(t, "strong")
	r := d.newRun(application(t, "app-hash", c, "30000.00", 12))
	wrong := sha256Hex("some other document")
	r.sendAt(time.Hour, plan.MsgChoose, choose("choose-1", 1))
	bad := r.sendAt(2*time.Hour, plan.MsgSign, plan.SignRequest{RequestID: "sign-bad", DocumentHash: wrong, Name: c.Name, Consent: true})
	r.signalAt(2*time.Hour+time.Minute, plan.MsgSign, plan.SignRequest{RequestID: "sign-bad-signal", DocumentHash: wrong, Name: c.Name, Consent: true})
	still := r.snapshot(3 * time.Hour)
	var agreement string
	r.at(3*time.Hour, func() {
		agreement = d.text(`SELECT status || ' ' || (signed_at IS NULL) FROM agreements WHERE plan_id = $1`, r.id) + " plan " + d.planState(r.id)
	})
	good := r.signAt(4*time.Hour, "sign-ok")
	r.stopAt(5 * time.Hour)
	r.execute()
	r.wantCanceled()

	bad.wantRejected(t, "quotes document "+wrong, still.AgreementHash)
	if still.State != plan.StateSigning || !still.SignedAt.IsZero() {
		t.Errorf("after a wrong hash: %s signed at %s, want signing, unsigned", still.State, still.SignedAt)
	}
	if agreement != "pending true plan signing" {
		t.Errorf("after a wrong hash the database has %q, want a pending unsigned agreement, plan signing", agreement)
	}
	d.wantNoRequest(r.id, "sign-bad")
	d.wantNoRequest(r.id, "sign-bad-signal")
	if rp := good.wantReply(t); !rp.Accepted || rp.State != plan.StateActive {
		t.Errorf("good signature reply %+v, want active", rp)
	}
	d.wantRequest(r.id, "sign-ok", "sign_agreement", "customer", "completed")
}

// 8. a repeated request id gets the first reply and is applied once; the
// same id for a different request is refused.
func TestRepeatedRequestID(t *testing.T) {
	d := newDB(t)
	r := d.newRun(application(t, "app-rep", customer(t, "strong"), "30000.00", 12))
	offered := r.snapshot(time.Minute)
	c1 := r.sendAt(time.Hour, plan.MsgChoose, choose("c-1", 1))
	c1again := r.sendAt(time.Hour+time.Minute, plan.MsgChoose, choose("c-1", 1))
	r.signalAt(time.Hour+2*time.Minute, plan.MsgChoose, choose("c-1", 1))
	c1other := r.sendAt(time.Hour+3*time.Minute, plan.MsgChoose, choose("c-1", 2))
	c1kind := r.sendAt(time.Hour+4*time.Minute, plan.MsgWithdraw, withdraw("c-1", ""))
	s1 := r.signAt(2*time.Hour, "s-1")
	s1again := r.signAt(2*time.Hour+time.Minute, "s-1")
	r.at(2*time.Hour+2*time.Minute, func() {
		r.env.SignalWorkflow(plan.MsgSign, plan.SignRequest{RequestID: "s-1", DocumentHash: r.status().AgreementHash, Name: r.app.Customer.Name, Consent: true})
	})
	c1late := r.sendAt(3*time.Hour, plan.MsgChoose, choose("c-1", 1))
	s1late := r.signAt(3*time.Hour, "s-1")
	active := r.snapshot(4 * time.Hour)
	r.stopAt(5 * time.Hour)
	r.execute()
	r.wantCanceled()

	first := c1.wantReply(t)
	if !first.Accepted || first.State != plan.StateSigning {
		t.Fatalf("first choose reply %+v", first)
	}
	for name, o := range map[string]*outcome{"repeat": c1again, "repeat after activation": c1late} {
		if got := o.wantReply(t); got != first {
			t.Errorf("choose %s reply %+v, want the first %+v", name, got, first)
		}
	}
	c1other.wantRejected(t, `request id "c-1"`)
	c1kind.wantRejected(t, `request id "c-1"`)
	sign := s1.wantReply(t)
	if !sign.Accepted || sign.State != plan.StateActive {
		t.Fatalf("first sign reply %+v", sign)
	}
	for name, o := range map[string]*outcome{"repeat": s1again, "repeat after activation": s1late} {
		if got := o.wantReply(t); got != sign {
			t.Errorf("sign %s reply %+v, want the first %+v", name, got, sign)
		}
	}
	if active.State != plan.StateActive || active.ChosenOffer != 1 {
		t.Errorf("state %s chosen %d, want active with offer 1", active.State, active.ChosenOffer)
	}

	offer := offered.Offers[0]
	if n := d.count(`SELECT count(*) FROM requests WHERE plan_id = $1`, r.id); n != 2 {
		t.Errorf("%d requests rows, want 2 (c-1, s-1)", n)
	}
	d.wantRequest(r.id, "c-1", "choose_offer", "customer", "completed")
	d.wantRequest(r.id, "s-1", "sign_agreement", "customer", "completed")
	for what, want := range map[string]int{
		`SELECT count(*) FROM agreements WHERE plan_id = $1`:                                                         1,
		`SELECT count(*) FROM schedule_versions WHERE plan_id = $1`:                                                  1,
		`SELECT count(*) FROM audit_log WHERE plan_id = $1 AND action = 'agreement.signed'`:                          1,
		`SELECT count(*) FROM audit_log WHERE plan_id = $1 AND action = 'plan.activated'`:                            1,
		`SELECT count(*) FROM audit_log WHERE plan_id = $1 AND action = 'request.received'`:                          2,
		`SELECT count(*) FROM contacts WHERE plan_id = $1 AND contact_key LIKE '%:agreement:%'`:                      1,
		`SELECT count(*) FROM instalments WHERE plan_id = $1`:                                                        offer.Terms,
		`SELECT count(*) FROM audit_log WHERE plan_id = $1 AND action = 'plan.state' AND details->>'to' = 'signing'`: 1,
	} {
		if n := d.count(what, r.id); n != want {
			t.Errorf("%s: %d, want %d", what, n, want)
		}
	}
	wantDec(t, "credit line used", d.text(`SELECT used::text FROM credit_lines`), offer.Amount)
}

// 9. a Signal carrying a bad request is not applied; its refusal is kept
// under its request id.
func TestBadSignalNotApplied(t *testing.T) {
	tests := []struct {
		name string
		msg  string
		req  plan.Request
		// refusal is part of the refusal a repeat as an Update returns
		// (empty: the request is malformed, so the repeat is rejected).
		refusal string
	}{
		{"choose an offer that does not exist", plan.MsgChoose, choose("bad-1", 99), "there is no offer 99"},
		{"sign while offered", plan.MsgSign, plan.SignRequest{RequestID: "bad-1", DocumentHash: sha256Hex("x"), Name: "张三 (demo)", Consent: true}, "only while the plan is signing"},
		{"review decision while offered", plan.MsgReviewDecision, plan.ReviewDecision{RequestID: "bad-1", Approve: true}, "only to a plan in review"},
		{"counter-offer asking nothing", plan.MsgCounterOffer, plan.CounterOfferRequest{RequestID: "bad-1"}, ""},
		{"choose offer 0", plan.MsgChoose, choose("bad-1", 0), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDB(t)
			r := d.newRun(application(t, "app-bad", customer(t, "strong"), "30000.00", 12))
			before := r.snapshot(30 * time.Minute)
			var auditBefore, auditAfter int
			r.at(30*time.Minute, func() { auditBefore = d.count(`SELECT count(*) FROM audit_log`) })
			r.signalAt(time.Hour, tt.msg, tt.req)
			after := r.snapshot(2 * time.Hour)
			var row string
			r.at(2*time.Hour, func() {
				auditAfter = d.count(`SELECT count(*) FROM audit_log`)
				row = d.planState(r.id)
			})
			repeat := r.sendAt(2*time.Hour+time.Minute, tt.msg, tt.req)
			r.sendAt(3*time.Hour, plan.MsgWithdraw, withdraw("wd-1", ""))
			r.execute()
			res := r.result()

			if after.State != plan.StateOffered || after.OfferRound != before.OfferRound || after.ChosenOffer != 0 ||
				after.AgreementHash != "" || len(after.Offers) != len(before.Offers) || !after.UpdatedAt.Equal(before.UpdatedAt) {
				t.Errorf("a bad signal changed the plan: before %s round %d, after %s round %d chosen %d hash %q",
					before.State, before.OfferRound, after.State, after.OfferRound, after.ChosenOffer, after.AgreementHash)
			}
			if row != "offered" || auditAfter != auditBefore {
				t.Errorf("a bad signal reached the database: plan %s, audit rows %d -> %d", row, auditBefore, auditAfter)
			}
			d.wantNoRequest(r.id, "bad-1")
			if n := d.count(`SELECT count(*) FROM agreements`); n != 0 {
				t.Errorf("%d agreements", n)
			}
			// A refused Signal leaves its request id unused, as a refused Update
			// does: the same request as an Update is refused for the same reason,
			// and the Signal's refusal shows in the status.
			if tt.refusal == "" {
				repeat.wantRejected(t)
			} else {
				repeat.wantRejected(t, tt.refusal)
				found := false
				for _, rp := range after.RecentReplies {
					found = found || (rp.RequestID == "bad-1" && !rp.Accepted && strings.Contains(rp.Reason, tt.refusal))
				}
				if !found {
					t.Errorf("the refused signal is not in the status's recent replies: %+v", after.RecentReplies)
				}
			}
			if res.State != plan.StateWithdrawn {
				t.Errorf("result %s, want withdrawn", res.State)
			}
		})
	}
}

// twoPlans runs two plans of the strong customer in one database: the
// first (100,000.00) becomes active, the second (100,000.00 more) cannot
// be covered by the credit line left.
func twoPlans(t *testing.T) (d *db, a, b *planRun, first, second plan.Status, signB *outcome) {
	t.Helper()
	d = newDB(t)
	c := customer(t, "strong")
	a = d.newRun(application(t, "app-a", c, "100000.00", 12))
	a.sendAt(time.Minute, plan.MsgChoose, choose("choose-a", 1))
	signA := a.signAt(2*time.Minute, "sign-a")
	activeA := a.snapshot(3 * time.Minute)
	a.stopAt(4 * time.Minute)
	a.execute()
	a.wantCanceled()
	if rp := signA.wantReply(t); rp.State != plan.StateActive {
		t.Fatalf("first plan: sign reply %+v, want active", rp)
	}
	first = *activeA

	b = d.newRun(application(t, "app-b", c, "100000.00", 12))
	offeredB := b.snapshot(time.Minute)
	b.sendAt(2*time.Minute, plan.MsgChoose, choose("choose-b", 1))
	signB = b.signAt(3*time.Minute, "sign-b")
	b.execute()
	second = b.result()
	if !offeredB.Offers[0].Amount.Equal(dec("100000")) || !offeredB.CreditLimit.Equal(first.CreditLimit) {
		t.Fatalf("second plan offered %s within %s, want 100000 within the same limit %s", offeredB.Offers[0].Amount, offeredB.CreditLimit, first.CreditLimit)
	}
	return d, a, b, first, second, signB
}

// 10. a credit line used by an earlier active plan declines a plan it
// cannot cover, at activation.
func TestCreditLineExhausted(t *testing.T) {
	d, a, b, first, second, signB := twoPlans(t)
	limit := first.CreditLimit
	available := limit.Sub(dec("100000"))

	rp := signB.wantReply(t)
	if rp.Accepted || rp.State != plan.StateDeclined || !strings.Contains(rp.Reason, "credit line") ||
		!strings.Contains(rp.Reason, available.StringFixed(2)+" available") {
		t.Errorf("second sign reply %+v, want declined naming the credit line and %s available", rp, available.StringFixed(2))
	}
	if second.State != plan.StateDeclined || len(second.Reasons) != 1 || second.Reasons[0] != rp.Reason {
		t.Errorf("second plan ended %s %q, want declined with %q", second.State, second.Reasons, rp.Reason)
	}
	if len(second.Schedule) != 0 || !second.SignedAt.IsZero() {
		t.Errorf("declined plan has a schedule of %d rows, signed at %s", len(second.Schedule), second.SignedAt)
	}
	d.wantFinal(b.id, plan.StateDeclined, rp.Reason)
	d.wantTransition(b.id, "signing", "declined")
	if body := d.wantNotice(b.id, "outcome:declined", "notice", "push"); !strings.Contains(body, "credit line") {
		t.Errorf("decline notice %q does not name the credit line", body)
	}
	if got := d.planState(a.id); got != "active" {
		t.Errorf("first plan %s, want still active", got)
	}
	wantDec(t, "credit line used", d.text(`SELECT used::text FROM credit_lines`), dec("100000"))
	wantDec(t, "credit line limit", d.text(`SELECT credit_limit::text FROM credit_lines`), limit)
	for _, q := range []string{
		`SELECT count(*) FROM instalments WHERE plan_id = $1`,
		`SELECT count(*) FROM schedule_versions WHERE plan_id = $1`,
		`SELECT count(*) FROM contacts WHERE plan_id = $1 AND purpose = 'schedule_notice'`,
		`SELECT count(*) FROM audit_log WHERE plan_id = $1 AND action = 'plan.activated'`,
	} {
		if n := d.count(q, b.id); n != 0 {
			t.Errorf("%s: %d for the declined plan, want 0", q, n)
		}
	}
}

// The signature the credit line refused is recorded as what it is: the
// customer's sign request, refused.
func TestRefusedSignatureRecordedAsSignRequest(t *testing.T) {
	d, _, b, _, _, signB := twoPlans(t)
	if rp := signB.wantReply(t); rp.Accepted {
		t.Fatalf("second sign reply %+v, want a refusal", rp)
	}
	d.wantRequest(b.id, "sign-b", "sign_agreement", "customer", "rejected")
}

// A paper signature (the scanned form's reference, no typed name) is
// recorded by reference and activates the plan.
func TestPaperSignature(t *testing.T) {
	d := newDB(t)
	r := d.newRun(application(t, "app-paper", customer(t, "strong"), "30000.00", 12))
	r.sendAt(time.Hour, plan.MsgChoose, choose("choose-1", 1))
	var signed outcome
	r.at(2*time.Hour, func() {
		r.send(&signed, plan.MsgSign, plan.SignRequest{RequestID: "sign-paper", DocumentHash: r.status().AgreementHash, PaperRef: "scan-2026-0001", Consent: true})
	})
	r.stopAt(3 * time.Hour)
	r.execute()

	r.wantCanceled() // not failed
	if !signed.accepted || !signed.complete || signed.err != nil || signed.reply.State != plan.StateActive {
		t.Errorf("paper sign: accepted %v completed %v err %v reply %+v, want active", signed.accepted, signed.complete, signed.err, signed.reply)
	}
	if got := d.text(`SELECT coalesce(signature_kind, '') || ' ' || coalesce(paper_reference, '') || ' ' || status FROM agreements WHERE plan_id = $1`, r.id); got != "paper scan-2026-0001 signed" {
		t.Errorf("agreement %q, want signed on paper scan-2026-0001", got)
	}
}

// A choice names the offer set the customer saw: after a counter-offer
// replaced the offers, choosing from the old set is refused before it
// enters history, and choosing from the new set applies that set's terms.
func TestChooseNamesTheOfferSet(t *testing.T) {
	d := newDB(t)
	r := d.newRun(application(t, "app-set", customer(t, "strong"), "30000.00", 12))
	countered := r.sendAt(time.Hour, plan.MsgCounterOffer, plan.CounterOfferRequest{RequestID: "co-1", Terms: 36})
	stale := r.sendAt(2*time.Hour, plan.MsgChoose, plan.ChooseRequest{RequestID: "choose-old", OfferSet: 1, Offer: 3})
	before := r.snapshot(2*time.Hour + time.Minute)
	fresh := r.sendAt(3*time.Hour, plan.MsgChoose, plan.ChooseRequest{RequestID: "choose-new", OfferSet: 2, Offer: 1})
	after := r.snapshot(4 * time.Hour)
	r.sendAt(5*time.Hour, plan.MsgWithdraw, withdraw("wd-1", "test over"))
	r.execute()

	if rp := countered.wantReply(t); !rp.Accepted {
		t.Fatalf("counter-offer refused: %+v", rp)
	}
	if stale.rejectErr == nil || !strings.Contains(stale.rejectErr.Error(), "offer set 1 is no longer on the table") {
		t.Fatalf("choosing from the replaced set: rejected %v, want the stale set named", stale.rejectErr)
	}
	if before.State != plan.StateOffered || before.OfferSet != 2 || before.ChosenOffer != 0 {
		t.Fatalf("after the stale choice: %s, set %d, chosen %d; want offered, set 2, none", before.State, before.OfferSet, before.ChosenOffer)
	}
	if rp := fresh.wantReply(t); !rp.Accepted || after.State != plan.StateSigning {
		t.Fatalf("choosing from the current set: %+v, state %s", rp, after.State)
	}
	var terms int
	if err := d.st.Pool().QueryRow(context.Background(), `SELECT terms FROM plans WHERE id = $1`, r.id).Scan(&terms); err != nil {
		t.Fatal(err)
	}
	if terms != after.Offers[0].Terms {
		t.Fatalf("plan terms %d, want the chosen offer's %d", terms, after.Offers[0].Terms)
	}
}

// The schedule in the signed agreement is the schedule the plan is
// activated with: same dates, same amounts.
func TestAgreementShowsTheActivatedSchedule(t *testing.T) {
	d := newDB(t)
	r := d.newRun(application(t, "app-doc", customer(t, "strong"), "20000.00", 12))
	r.sendAt(time.Hour, plan.MsgChoose, choose("choose-1", 1))
	var doc plan.Agreement
	r.env.RegisterDelayedCallback(func() {
		v, err := r.env.QueryWorkflow(plan.QueryAgreement)
		if err != nil {
			t.Errorf("agreement query: %v", err)
			return
		}
		if err := v.Get(&doc); err != nil {
			t.Errorf("decode agreement: %v", err)
		}
	}, 2*time.Hour)
	// Signed five days later: the schedule still runs from the agreement's start.
	r.env.RegisterDelayedCallback(func() {
		r.env.UpdateWorkflow(plan.MsgSign, "sign-1", &testsuite.TestUpdateCallback{
			OnAccept: func() {}, OnReject: func(err error) { t.Errorf("sign rejected: %v", err) }, OnComplete: func(any, error) {},
		}, plan.SignRequest{RequestID: "sign-1", DocumentHash: doc.SHA256, Name: "张三", Consent: true})
	}, 5*24*time.Hour)
	active := r.snapshot(5*24*time.Hour + time.Hour)
	r.stopAt(5*24*time.Hour + 2*time.Hour)
	r.execute()

	if doc.SHA256 == "" || active.State != plan.StateActive {
		t.Fatalf("agreement %q, state %s: want a document and an active plan", doc.SHA256, active.State)
	}
	for _, row := range active.Schedule {
		line := row.DueDate.String()
		if !strings.Contains(doc.Text, line) || !strings.Contains(doc.Text, row.Payment.StringFixed(2)) {
			t.Errorf("instalment %d due %s of %s is not in the signed agreement", row.No, line, row.Payment.StringFixed(2))
		}
	}
	var start time.Time
	if err := d.st.Pool().QueryRow(context.Background(), `SELECT start_date FROM plans WHERE id = $1`, r.id).Scan(&start); err != nil {
		t.Fatal(err)
	}
	if start.Format("2006-01-02") != doc.Start.String() {
		t.Errorf("stored start date %s, agreement's %s", start.Format("2006-01-02"), doc.Start)
	}
}
