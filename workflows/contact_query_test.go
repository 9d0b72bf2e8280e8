package workflows_test

import (
	"testing"
	"time"

	"github.com/fenqi/fenqi/plan"
)

// The contact query tells when the customer may next be contacted and
// why: at night it names the window; the history shows the schedule
// notice sent at activation.
func TestContactQuery(t *testing.T) {
	d := newDB(t)
	r := d.newRun(application(t, "app-contact", customer(t, "strong"), "12000.00", 12))
	r.activeAt()
	var day, night plan.ContactStatus
	query := func(into *plan.ContactStatus) func() {
		return func() {
			v, err := r.env.QueryWorkflow(plan.QueryContact)
			if err != nil {
				t.Errorf("contact query: %v", err)
				return
			}
			if err := v.Get(into); err != nil {
				t.Errorf("decode contact status: %v", err)
			}
		}
	}
	// t0 is 10:00 in Shanghai: 3h later is 13:00 (inside the window),
	// 13h later is 23:00 (outside).
	r.at(3*time.Hour, query(&day))
	r.at(13*time.Hour, query(&night))
	r.stopAt(14 * time.Hour)
	r.execute()

	if len(day.RecentContacts) == 0 {
		t.Fatalf("no contact history after activation: %+v", day)
	}
	if night.Reason == "" || !night.NextAllowed.After(night.Now) {
		t.Fatalf("at 23:00 the next contact is allowed at %s (now %s), reason %q; want the morning with a reason", night.NextAllowed, night.Now, night.Reason)
	}
	if h := night.NextAllowed.In(time.FixedZone("CST", 8*3600)).Hour(); h != 8 {
		t.Errorf("next contact at %02d:00 local, want 08:00", h)
	}
}
