package workflows_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"

	"github.com/fenqi/fenqi/activities"
	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/plan"
)

// The onboarding's writes are local activities, whose input is not in
// history: if the worker dies after a write committed and before its
// workflow task completed, the task runs again from a later workflow time
// and the write answers with what the lost attempt stored. Here each write
// is preceded by the lost attempt, a day earlier, against the same
// database; the plan adopts what that attempt stored (offer and agreement
// expiries, the agreement and its start date, the signing time) and the
// customer signs the stored agreement.
func TestOnboardingAdoptsWhatALostAttemptStored(t *testing.T) {
	const lostBy = 24 * time.Hour
	d := newDB(t)
	r := d.newRun(application(t, "app-lost-task", customer(t, "strong"), "12000.00", 12))
	acts := activities.New(d.st)

	r.env.OnActivity(acts.Assess, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in activities.AssessInput) (activities.Assessed, error) {
			lost := in
			lost.At, lost.OffersExpireAt = in.At.Add(-lostBy), in.OffersExpireAt.Add(-lostBy)
			if _, err := acts.Assess(ctx, lost); err != nil {
				return activities.Assessed{}, err
			}
			return acts.Assess(ctx, in)
		})
	var lostDoc activities.RecordedAgreement
	r.env.OnActivity(acts.PrepareAgreement, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in activities.PrepareAgreementInput) (activities.RecordedAgreement, error) {
			lost := in
			lost.StartAt, lost.At, lost.ExpireAt = in.StartAt.Add(-lostBy), in.At.Add(-lostBy), in.ExpireAt.Add(-lostBy)
			var err error
			if lostDoc, err = acts.PrepareAgreement(ctx, lost); err != nil {
				return activities.RecordedAgreement{}, err
			}
			return acts.PrepareAgreement(ctx, in)
		})
	r.env.OnActivity(acts.SignAndActivate, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in activities.ActivateInput) (activities.Activated, error) {
			lost := in
			lost.SignedAt = in.SignedAt.Add(-lostBy)
			if _, err := acts.SignAndActivate(ctx, lost); err != nil {
				return activities.Activated{}, err
			}
			return acts.SignAndActivate(ctx, in)
		})

	offered := r.snapshot(time.Minute)
	chose := r.sendAt(2*time.Minute, plan.MsgChoose, choose("choose-1", 1))
	signing := r.snapshot(3 * time.Minute)
	signed := r.signAt(4*time.Minute, "sign-1")
	active := r.snapshot(5 * time.Minute)
	r.stopAt(6 * time.Minute)
	r.execute()
	r.wantCanceled()

	if want := t0.Add(week - lostBy); offered.State != plan.StateOffered || !offered.OffersExpireAt.Equal(want) {
		t.Errorf("offered: %s, offers expire at %s; want the lost attempt's %s", offered.State, offered.OffersExpireAt, want)
	}
	if cr := chose.wantReply(t); !cr.Accepted || cr.AgreementHash != lostDoc.Document.SHA256 {
		t.Errorf("choose reply %+v; want accepted with the stored agreement's hash %s", cr, lostDoc.Document.SHA256)
	}
	if want := t0.Add(2*time.Minute + week - lostBy); !signing.AgreementExpireAt.Equal(want) || signing.AgreementHash != lostDoc.Document.SHA256 {
		t.Errorf("signing: agreement %.12s expires at %s; want the stored %.12s at %s",
			signing.AgreementHash, signing.AgreementExpireAt, lostDoc.Document.SHA256, want)
	}
	if sr := signed.wantReply(t); !sr.Accepted || sr.State != plan.StateActive {
		t.Fatalf("sign reply %+v; want the stored agreement signed and the plan active", sr)
	}
	if want := t0.Add(4*time.Minute - lostBy); !active.SignedAt.Equal(want) {
		t.Errorf("signed at %s; want the stored signature's %s", active.SignedAt, want)
	}
	// The schedule runs from the stored agreement's start, in the
	// workflow as in PostgreSQL.
	want, err := calc.BuildSchedule(offered.Offers[0].CalcTerms(lostDoc.Start))
	if err != nil {
		t.Fatal(err)
	}
	if len(active.Schedule) != len(want.Rows) || active.Schedule[0].DueDate != want.Rows[0].DueDate {
		t.Fatalf("schedule of %d rows from %v; want %d from %s", len(active.Schedule), active.Schedule[0].DueDate, len(want.Rows), want.Rows[0].DueDate)
	}
	if got := d.text(`SELECT min(due_date)::text FROM instalments WHERE plan_id = $1`, r.id); got != want.Rows[0].DueDate.String() {
		t.Errorf("first due date in PostgreSQL %s; want %s", got, want.Rows[0].DueDate)
	}
	if n := d.count(`SELECT count(*) FROM agreements WHERE plan_id = $1`, r.id); n != 1 {
		t.Errorf("%d agreements stored, want 1", n)
	}
}

// The update a lost workflow task accepted is lost with it: the customer
// may then choose another offer under another request. The choice the
// lost task stored stands, and the new request is refused with it.
func TestAnotherChoiceAfterALostTask(t *testing.T) {
	d := newDB(t)
	r := d.newRun(application(t, "app-lost-choice", customer(t, "strong"), "12000.00", 12))
	acts := activities.New(d.st)
	offered := r.snapshot(time.Minute)
	r.env.OnActivity(acts.PrepareAgreement, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in activities.PrepareAgreementInput) (activities.RecordedAgreement, error) {
			lost := in
			lost.Offer, lost.RequestID = offered.Offers[1], "choose-lost"
			if _, err := acts.PrepareAgreement(ctx, lost); err != nil {
				return activities.RecordedAgreement{}, err
			}
			return acts.PrepareAgreement(ctx, in)
		})
	chose := r.sendAt(2*time.Minute, plan.MsgChoose, choose("choose-new", 1))
	signing := r.snapshot(3 * time.Minute)
	r.stopAt(4 * time.Minute)
	r.execute()
	r.wantCanceled()

	reply := chose.wantReply(t)
	if reply.Accepted || !strings.Contains(reply.Reason, "offer 2 was chosen already") {
		t.Errorf("choose offer 1 reply %+v, want refused: offer 2 was chosen already", reply)
	}
	if signing.State != plan.StateSigning || signing.ChosenOffer != 2 || signing.AgreementHash == "" {
		t.Errorf("after: %s, chosen %d, agreement %q; want signing the stored choice, offer 2", signing.State, signing.ChosenOffer, signing.AgreementHash)
	}
}
