package workflows

import (
	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/plan"
)

// status is the plan as a Query reports it.
func (w *planWorkflow) status() plan.Status {
	s := plan.Status{
		PlanID:                 w.PlanID,
		State:                  w.State,
		CustomerID:             w.CustomerID,
		ApplicationFingerprint: w.AppFingerprint,
		Reasons:                w.Reasons,
		Score:                  w.Assessment.Score,
		Tier:                   w.Assessment.Tier,
		CreditLimit:            w.Assessment.CreditLimit,
		Offers:                 w.Offers,
		OfferSet:               w.OfferSet,
		OfferRound:             w.OfferRound,
		CounterRoundsMax:       w.App.Settings.MaxCounterRounds,
		OffersExpireAt:         w.OffersExpireAt,
		ChosenOffer:            w.Chosen,
		AgreementHash:          w.Agreement.SHA256,
		AgreementExpireAt:      w.AgreementExpireAt,
		SignedAt:               w.SignedAt,
		TotalInstallments:      len(w.Instalments),
		UpdatedAt:              w.UpdatedAt,
		RecentReplies:          w.Recent,
	}
	outstanding, paid, total := decimal.Zero, decimal.Zero, decimal.Zero
	s.Schedule = make([]plan.ScheduleRow, len(w.Instalments))
	for i, in := range w.Instalments {
		s.Schedule[i] = plan.ScheduleRow{Row: in.Row, Status: in.Status}
		total = total.Add(in.Row.Payment)
		paid = paid.Add(decimal.Max(in.Row.Payment.Sub(in.Outstanding), decimal.Zero))
		if in.settled() {
			s.PaidInstallments++
			continue
		}
		outstanding = outstanding.Add(in.Row.Principal)
		if s.NextDueDate.IsZero() && in.Status != plan.InstalmentOverdue {
			s.NextDueDate, s.NextDueAmount = in.Row.DueDate, in.Outstanding
		}
	}
	s.OutstandingPrincipal, s.PaidAmount, s.TotalAmount = outstanding, paid, total
	s.DaysPastDue, s.Bucket, s.FailedDebits = w.DaysPastDue, w.Bucket, w.FailedDebits
	s.ScheduleVersion, s.Revision = w.ScheduleVersion, w.Revision
	if w.State == plan.StateClosed {
		s.CloseReason = w.CloseReason
	}
	s.Complaints = w.Complaints
	if w.Awaiting != nil {
		q := w.Awaiting.Quote
		s.AwaitingApproval = &q
	}
	if len(w.Instalments) == 0 {
		s.Bucket = ""
	} else if s.Bucket == "" {
		s.Bucket = "M0"
	}
	return s
}
