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
		Schedule:               w.Schedule,
		TotalInstallments:      len(w.Schedule),
		Bucket:                 "M0",
		UpdatedAt:              w.UpdatedAt,
		RecentReplies:          w.Recent,
	}
	outstanding := decimal.Zero
	for _, r := range w.Schedule {
		switch r.Status {
		case plan.InstalmentPaid, plan.InstalmentWaived:
			s.PaidInstallments++
		default:
			outstanding = outstanding.Add(r.Principal)
		}
	}
	s.OutstandingPrincipal = outstanding
	if len(w.Schedule) == 0 {
		s.Bucket = ""
	}
	return s
}
