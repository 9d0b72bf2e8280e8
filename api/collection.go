package api

import (
	"context"
	"net/http"

	"github.com/fenqi/fenqi/plan"
)

// CollectionDoor is what the API needs of the front door for plans in
// collection: the collection status, the debtor's promise to pay, the
// operator's decisions (legal referral, write-off, hardship grace) and the
// arrears plan (quoted, then confirmed).
type CollectionDoor interface {
	Collection(ctx context.Context, planID string) (plan.CollectionStatus, error)
	Promise(ctx context.Context, planID string, r plan.PromiseRequest) (plan.Reply, error)
	Refer(ctx context.Context, planID string, r plan.ReferralRequest) (plan.Reply, error)
	WriteOff(ctx context.Context, planID string, r plan.WriteOffRequest) (plan.Reply, error)
	ExtendGrace(ctx context.Context, planID string, r plan.GraceRequest) (plan.Reply, error)
	ArrearsPlan(ctx context.Context, planID string, r plan.ArrearsPlanRequest) (plan.Reply, error)
}

// routeCollection adds the collection routes: their requests are answered
// as the other requests (200 with the reply, 422 when the plan refused it,
// with an ineligible arrears plan quote in the reply).
func (s *Server) routeCollection() {
	s.route("GET /v1/plans/{id}/collection", ownPlan, s.collection)
	s.route("POST /v1/plans/{id}/promises", ownPlan, planAction(s, func(ctx context.Context, id string, r plan.PromiseRequest) (plan.Reply, error) {
		return s.door.Promise(ctx, id, r)
	}))
	s.route("POST /v1/plans/{id}/referral", operatorsOnly, planAction(s, func(ctx context.Context, id string, r plan.ReferralRequest) (plan.Reply, error) {
		return s.door.Refer(ctx, id, r)
	}))
	s.route("POST /v1/plans/{id}/write-off", operatorsOnly, planAction(s, func(ctx context.Context, id string, r plan.WriteOffRequest) (plan.Reply, error) {
		return s.door.WriteOff(ctx, id, r)
	}))
	s.route("POST /v1/plans/{id}/grace", operatorsOnly, planAction(s, func(ctx context.Context, id string, r plan.GraceRequest) (plan.Reply, error) {
		return s.door.ExtendGrace(ctx, id, r)
	}))
	s.route("POST /v1/plans/{id}/arrears-plan", ownPlan, planAction(s, func(ctx context.Context, id string, r plan.ArrearsPlanRequest) (plan.Reply, error) {
		return s.door.ArrearsPlan(ctx, id, r)
	}))
}

// collection returns the plan's collection status; the lists are [] when
// empty, never null.
func (s *Server) collection(w http.ResponseWriter, r *http.Request) {
	cs, err := s.door.Collection(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if cs.Actions == nil {
		cs.Actions = []plan.CollectionAction{}
	}
	if cs.Contacts == nil {
		cs.Contacts = []plan.ContactEvent{}
	}
	writeJSON(w, http.StatusOK, cs)
}
