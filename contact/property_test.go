package contact

import (
	"errors"
	"math/rand"
	"slices"
	"testing"
	"time"
)

// propertyZones are the customers' time zones of the property and fuzz
// tests: daylight saving in both hemispheres, a half-hour offset and a
// half-hour daylight-saving shift (Lord Howe).
var propertyZones = []string{"Asia/Shanghai", "America/New_York", "UTC", "Asia/Kolkata", "Europe/London", "Australia/Lord_Howe"}

// ruleVariants are the rules of the property and fuzz tests.
func ruleVariants() []Rules {
	tight := DefaultRules()
	tight.QuietDaysAfterConversation = 0
	tight.MaxConnectedCallsPerDay, tight.MaxCallAttemptsPerDay, tight.MaxCallAttemptsRolling = 1, 2, 3
	tight.MaxMessagesPerDay, tight.MaxMessagesRolling = 1, 3
	office := DefaultRules()
	office.WindowOpen, office.WindowClose = TimeOfDay{Hour: 9, Minute: 30}, TimeOfDay{Hour: 17, Minute: 45}
	office.Fallback = []Channel{Email, Letter, Phone}
	allDay := DefaultRules()
	allDay.WindowOpen, allDay.WindowClose = TimeOfDay{}, TimeOfDay{Hour: 24}
	allDay.RollingDays = 3
	return []Rules{DefaultRules(), tight, office, allDay}
}

// usableOrder is the channel order a request should be served in, worked
// out independently of Plan.
func usableOrder(r Rules, req Request) []Channel {
	order := []Channel{}
	if req.Preferred != "" {
		order = append(order, req.Preferred)
	}
	fallback := req.Fallback
	if len(fallback) == 0 {
		fallback = r.Fallback
	}
	for _, ch := range fallback {
		if !slices.Contains(order, ch) {
			order = append(order, ch)
		}
	}
	var out []Channel
	for _, ch := range order {
		if req.Addresses.Has(ch) {
			out = append(out, ch)
		}
	}
	return out
}

// verifyPlan plans req and checks the decision against Check: it passes,
// it is at or after Earliest, the channels preferred to it fail at it, and
// every instant from Earliest up to it (stepping by step, within the first
// day) fails for every usable channel.
func verifyPlan(t *testing.T, r Rules, req Request, history []Attempt, loc *time.Location, step time.Duration) {
	t.Helper()
	usable := usableOrder(r, req)
	d, err := r.Plan(req, history, loc)
	if len(usable) == 0 {
		if !errors.Is(err, ErrNoChannel) {
			t.Fatalf("no usable channel: Plan = %+v, %v; want ErrNoChannel", d, err)
		}
		return
	}
	if err != nil {
		t.Fatalf("Plan = %v", err)
	}
	if d.At.Before(req.Earliest) {
		t.Fatalf("Plan at %v, before the earliest %v", d.At, req.Earliest)
	}
	if d.Deferred != d.At.After(req.Earliest) || (d.Reason == "") == d.Deferred {
		t.Fatalf("Plan = %+v: Deferred and Reason disagree with At", d)
	}
	if err := r.Check(d.At, d.Channel, history, loc); err != nil {
		t.Fatalf("Plan = %+v fails Check: %v", d, err)
	}
	i := slices.Index(usable, d.Channel)
	if i < 0 {
		t.Fatalf("Plan chose %s, not one of the usable %v", d.Channel, usable)
	}
	for _, ch := range usable[:i] {
		if r.Check(d.At, ch, history, loc) == nil {
			t.Fatalf("Plan chose %s at %v but the preferred %s is allowed then", d.Channel, d.At, ch)
		}
	}
	for k := time.Duration(0); k < 24*time.Hour; k += step {
		at := req.Earliest.Add(k)
		if !at.Before(d.At) {
			break
		}
		for _, ch := range usable {
			if r.Check(at, ch, history, loc) == nil {
				t.Fatalf("Plan = %v by %s, but %s is allowed earlier, at %v", d.At, d.Channel, ch, at)
			}
		}
	}
	for _, ch := range usable {
		next, _ := r.NextAllowed(req.Earliest, ch, history, loc)
		if next.Before(d.At) || (ch == d.Channel && !next.Equal(d.At)) {
			t.Fatalf("Plan = %v by %s, NextAllowed(%s) = %v", d.At, d.Channel, ch, next)
		}
	}
}

// TestPlanAgreesWithCheck is the property test: random requests and
// histories from a fixed seed.
func TestPlanAgreesWithCheck(t *testing.T) {
	rng := rand.New(rand.NewSource(20260304))
	zones := make([]*time.Location, len(propertyZones))
	for i, name := range propertyZones {
		zones[i] = zone(t, name)
	}
	variants := ruleVariants()
	bases := []time.Time{
		time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),   // New York springs forward on 03-08, London on 03-29
		time.Date(2026, 10, 20, 0, 0, 0, 0, time.UTC), // London falls back on 10-25, New York on 11-01
	}
	pick := func(list []Channel) Channel { return list[rng.Intn(len(list))] }
	cases := 400
	if testing.Short() {
		cases = 100
	}
	for n := 0; n < cases; n++ {
		loc := zones[rng.Intn(len(zones))]
		r := variants[rng.Intn(len(variants))]
		earliest := bases[rng.Intn(len(bases))].Add(time.Duration(rng.Int63n(int64(20 * 24 * time.Hour))))
		if rng.Intn(3) == 0 {
			earliest = earliest.Truncate(time.Hour) // on the hour, as reminders are
		}
		req := Request{
			Earliest: earliest,
			Purpose:  "property",
			Addresses: Addresses{
				HasPhone:  rng.Intn(10) < 7,
				HasEmail:  rng.Intn(10) < 7,
				HasPush:   rng.Intn(10) < 7,
				HasPostal: rng.Intn(10) < 3,
			},
		}
		if rng.Intn(5) > 0 {
			req.Preferred = pick(Channels)
		}
		if rng.Intn(3) == 0 {
			for k := rng.Intn(4); k >= 0; k-- {
				req.Fallback = append(req.Fallback, pick(Channels))
			}
		}
		history := make([]Attempt, rng.Intn(30))
		for i := range history {
			history[i] = Attempt{
				At:      earliest.Add(time.Duration(rng.Int63n(int64(11*24*time.Hour))) - 10*24*time.Hour).Truncate(time.Minute),
				Channel: pick(Channels),
				Outcome: Outcomes[rng.Intn(len(Outcomes))],
			}
		}
		t.Run("", func(t *testing.T) {
			t.Logf("zone %v, rules %+v, request %+v, history %+v", loc, r, req, history)
			verifyPlan(t, r, req, history, loc, time.Minute)
		})
	}
}
