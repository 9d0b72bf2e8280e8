package collection

import (
	"slices"
	"testing"

	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/contact"
)

// reminders adds the servicing reminders of rows to s's history: a
// reminder D-3 and the due-date notice, by sms at 09:00 local, as servicing
// queues them ahead.
func (s *sim) reminders() {
	for _, r := range s.rows {
		for _, off := range []int{-3, 0} {
			s.history = append(s.history, contact.Attempt{At: r.DueDate.AddDays(off).At(s.loc, 9, 0, 0), Channel: contact.SMS, Outcome: contact.Delivered})
		}
	}
}

// firstDays returns the local date of the first step of each round, or of
// the round itself when it has no step.
func firstDays(s *sim, rounds []simRound) []string {
	out := make([]string, len(rounds))
	for i, r := range rounds {
		out[i] = localDate(r.action.At, s.loc).String()
	}
	return out
}

// kinds returns the kinds of a round's steps.
func kinds(a Action) []Kind {
	out := make([]Kind, len(a.Steps))
	for i, st := range a.Steps {
		out[i] = st.Kind
	}
	return out
}

// TestTimeline drives a plan whose customer never pays from the missed
// first instalment through grace, M1, M2, M3, the legal referral (held,
// then negotiated) and the write-off, and checks the ladder's schedule,
// the contact rules over every contact and the messages.
func TestTimeline(t *testing.T) {
	s := newSim(t, schedule(t, "2026-01-15", 12), "2026-01-14 09:00")
	s.reminders()

	s.until("2026-04-20 10:00")
	var err error
	s.state, err = s.r.Decide(s.state, Hold, s.now)
	must(t, err)
	s.until("2026-05-25 10:00")
	s.state, err = s.r.Decide(s.state, Negotiate, s.now)
	must(t, err)
	s.until("2026-07-20 10:00")
	in := s.inputs(s.now)
	s.state, err = s.r.WriteOff(s.state, ApproveWriteOff, s.now, in)
	must(t, err)
	s.until("2026-09-01 10:00")

	// The schedule, stage by stage: weekly, fortnightly, monthly.
	negotiation := func(r simRound) bool { return r.action.Negotiation }
	m4 := s.roundsOf("M4")
	var referrals, negotiations []simRound
	for _, r := range m4 {
		if negotiation(r) {
			negotiations = append(negotiations, r)
		} else {
			referrals = append(referrals, r)
		}
	}
	for _, c := range []struct {
		name   string
		rounds []simRound
		days   []string
		kinds  []Kind
	}{
		{"M1 weekly", s.roundsOf("M1"), []string{"2026-01-19", "2026-01-26", "2026-02-02", "2026-02-09"}, []Kind{Message, CallTask}},
		// The first M2 call waits out the 7 quiet days after the
		// conversation of 2026-02-09; the notice follows it.
		{"M2 fortnightly", s.roundsOf("M2"), []string{"2026-02-16", "2026-03-02", "2026-03-16"}, []Kind{CallTask, Notice}},
		{"M3 monthly (M4 starts 30 days in)", s.roundsOf("M3"), []string{"2026-03-17"}, []Kind{DemandLetter, RestructureOffer}},
		// Raised at M4, held on 04-20, raised again 30 days later.
		{"M4 referral", referrals, []string{"2026-04-16", "2026-05-20"}, []Kind{LegalReferral}},
		{"M4 negotiation", negotiations, []string{"2026-05-25", "2026-06-08", "2026-06-22", "2026-07-06"}, []Kind{RestructureOffer, CallTask}},
		{"M7 write-off", s.roundsOf("M7"), []string{"2026-07-15"}, []Kind{WriteOffTask}},
	} {
		if got := firstDays(s, c.rounds); !slices.Equal(got, c.days) {
			t.Errorf("%s: rounds on %v, want %v", c.name, got, c.days)
		}
		for _, r := range c.rounds {
			if got := kinds(r.action); !slices.Equal(got, c.kinds) {
				t.Errorf("%s: round %d at %s: steps %v, want %v", c.name, r.action.Round, r.now, got, c.kinds)
			}
		}
	}
	if got, want := len(s.rounds), 4+3+1+2+4+1; got != want {
		t.Errorf("%d rounds, want %d", got, want)
	}
	// Channels: the preferred written channel, email for the notice, a
	// letter for the demand.
	for _, r := range s.rounds {
		for _, st := range r.action.Steps {
			want := map[Kind]contact.Channel{Message: contact.SMS, CallTask: contact.Phone, Notice: contact.Email, DemandLetter: contact.Letter, RestructureOffer: contact.SMS}[st.Kind]
			if st.Channel != want {
				t.Errorf("%s at %s by %s, want %s", st.Kind, st.At, st.Channel, want)
			}
		}
	}
	// Waiting for the operator, then closed.
	for _, w := range s.waits {
		switch {
		case w.now.After(at(t, s.loc, "2026-04-16 00:00")) && w.now.Before(at(t, s.loc, "2026-04-20 10:00")) && w.action.Wait != WaitOperator:
			t.Errorf("at %s: %s, want the referral waiting for the operator", w.now, w.action.Wait)
		case w.now.After(at(t, s.loc, "2026-07-15 00:00")) && w.now.Before(at(t, s.loc, "2026-07-20 10:00")) && w.action.Wait != WaitOperator:
			t.Errorf("at %s: %s, want the write-off waiting for the operator", w.now, w.action.Wait)
		case !w.now.Before(at(t, s.loc, "2026-07-20 10:00")) && w.action.Wait != WaitClosed:
			t.Errorf("at %s: %s after the write-off", w.now, w.action.Wait)
		}
	}
	if !s.state.WrittenOff() || !s.state.WriteOff.Balance.Equal(in.Owed.Remaining.Total()) {
		t.Errorf("write-off %+v, want approved with balance %s", s.state.WriteOff, in.Owed.Remaining.Total())
	}

	checkContacts(t, s)
	// Every written step states what is owed and by when.
	for _, r := range s.rounds {
		for _, st := range r.action.Steps {
			if st.Kind != CallTask && !st.Kind.Operator() {
				checkBody(t, string(st.Kind), st.Body, r.owed)
			}
		}
	}
}

// checkContacts checks every collection contact of s against the contact
// rules given every attempt recorded before it (reminders included), and
// counts the caps per local day by hand.
func checkContacts(t *testing.T, s *sim) {
	t.Helper()
	all := slices.Clone(s.history)
	slices.SortStableFunc(all, func(a, b contact.Attempt) int { return a.At.Compare(b.At) })
	for i, a := range all {
		if !slices.Contains(s.collected, a) {
			continue
		}
		if h := a.At.In(s.loc).Hour(); h < 8 || h >= 21 {
			t.Errorf("contact by %s at %s local: at night", a.Channel, a.At.In(s.loc))
		}
		if err := s.cr.Check(a.At, a.Channel, all[:i], s.loc); err != nil {
			t.Errorf("contact by %s at %s: %v", a.Channel, a.At.In(s.loc), err)
		}
	}
	calls, messages := map[calc.Date]int{}, map[calc.Date]int{}
	for _, a := range all {
		if a.Channel == contact.Phone {
			calls[localDate(a.At, s.loc)]++
		} else {
			messages[localDate(a.At, s.loc)]++
		}
	}
	for dd, n := range calls {
		week := 0
		for k := range 7 {
			week += calls[dd.AddDays(-k)]
		}
		if n > s.cr.MaxCallAttemptsPerDay || week > s.cr.MaxCallAttemptsRolling {
			t.Errorf("%s: %d calls, %d in 7 days", dd, n, week)
		}
	}
	for dd, n := range messages {
		if n > s.cr.MaxMessagesPerDay {
			t.Errorf("%s: %d messages", dd, n)
		}
	}
}

// TestRecovery clears the arrears in each stage and checks that the plan
// returns to M0 with the ladder stopped, and that a later missed
// instalment starts the ladder again from M1.
func TestRecovery(t *testing.T) {
	for _, c := range []struct {
		stage string
		until string
	}{
		{"M1", "2026-01-27 10:00"},
		{"M2", "2026-03-03 10:00"},
		{"M3", "2026-03-20 10:00"},
		{"M4", "2026-04-18 10:00"},
		{"M7", "2026-07-16 10:00"},
	} {
		t.Run(c.stage, func(t *testing.T) {
			s := newSim(t, schedule(t, "2026-01-15", 1), "2026-01-14 09:00")
			s.until(c.until)
			if got := s.rounds[len(s.rounds)-1].action.Stage; got != c.stage {
				t.Fatalf("last round in %s, want %s", got, c.stage)
			}
			s.payAll()
			if s.state.Stage != "" || s.state.Rounds != 0 || s.state.Referral != nil || s.state.WriteOff != nil || s.state.Floor != "" {
				t.Errorf("after payment: %+v, want back to M0", s.state)
			}
			n := len(s.rounds)
			a := s.step()
			if a.Wait != WaitCurrent || a.Stage != "M0" || a.Bucket != "M0" {
				t.Errorf("after payment: %+v, want current", a)
			}
			// A new instalment missed a month later starts at M1 again.
			due := localDate(s.now, s.loc).AddDays(30)
			s.rows = append(s.rows, Instalment{No: 2, DueDate: due, Principal: d("500.00"), Interest: d("20.00"), Fee: d("0.00")})
			s.until(due.AddDays(10).String() + " 10:00")
			got := s.rounds[n:]
			if len(got) != 1 || got[0].action.Stage != "M1" || got[0].action.Round != 1 || localDate(got[0].action.At, s.loc) != due.AddDays(4) {
				t.Errorf("after a new miss: rounds %+v, want one M1 round 1 on %s", got, due.AddDays(4))
			}
		})
	}
}

// TestPromiseKept: nothing is planned while the promise is pending; paid
// in time, it is kept and the cadence restarts from the payment.
func TestPromiseKept(t *testing.T) {
	s := newSim(t, schedule(t, "2026-01-15", 1), "2026-01-14 09:00")
	s.until("2026-01-20 10:00")
	var err error
	s.state, err = s.r.Promise(s.state, day(t, "2026-01-28"), d("500.00"), s.now, s.inputs(s.now))
	must(t, err)
	s.until("2026-01-25 15:00")
	s.paid = d("500.00")
	var out PromiseOutcome
	s.state, out, err = s.r.PromiseDue(s.state, s.now, s.paid, s.inputs(s.now))
	must(t, err)
	if out != PromiseKept || s.state.Promise != nil || s.state.PromisesKept != 1 {
		t.Fatalf("outcome %s, state %+v: want kept", out, s.state)
	}
	s.until("2026-02-10 10:00")
	if got := firstDays(s, s.since("2026-01-20 10:00")); !slices.Equal(got, []string{"2026-02-01", "2026-02-08"}) {
		t.Errorf("rounds after the promise on %v, want none while pending, then weekly from the payment", got)
	}
	for _, w := range s.waits {
		if w.now.After(at(t, s.loc, "2026-01-20 10:00")) && w.now.Before(at(t, s.loc, "2026-01-25 15:00")) && w.action.Wait != WaitPromise {
			t.Errorf("at %s: %s while the promise is pending", w.now, w.action.Wait)
		}
	}
}

// TestPromiseBroken: a broken promise escalates one step: the M2 round at
// once (in the window), then the M2 cadence; and M2 -> M3 likewise.
func TestPromiseBroken(t *testing.T) {
	s := newSim(t, schedule(t, "2026-01-15", 1), "2026-01-14 09:00")
	s.until("2026-01-20 10:00")
	var err error
	s.state, err = s.r.Promise(s.state, day(t, "2026-01-22"), d("1067.00"), s.now, s.inputs(s.now))
	must(t, err)
	s.until("2026-02-20 10:00")
	if !slices.Equal(s.outcomes, []PromiseOutcome{PromiseBroken}) || s.state.Floor != "M2" || s.state.PromisesBroken != 1 {
		t.Fatalf("outcomes %v, state %+v: want broken, floor M2", s.outcomes, s.state)
	}
	after := s.since("2026-01-20 10:00")
	if got := firstDays(s, after); !slices.Equal(got, []string{"2026-01-23", "2026-02-06", "2026-02-20"}) {
		t.Errorf("rounds after the promise on %v", got)
	}
	if after[0].now != at(t, s.loc, "2026-01-23 00:00") || after[0].action.Stage != "M2" || after[0].action.At != at(t, s.loc, "2026-01-23 08:00") {
		t.Errorf("first round after the broken promise: %+v at %s, want M2 at once, sent at 08:00", after[0].action, after[0].now)
	}
	// Broken again in M2 (by days past due): M3 at once, then monthly.
	s.state, err = s.r.Promise(s.state, day(t, "2026-02-22"), d("100.00"), s.now, s.inputs(s.now))
	must(t, err)
	s.until("2026-04-15 10:00")
	if s.state.Floor != "M3" {
		t.Errorf("floor %q, want M3", s.state.Floor)
	}
	m3 := s.roundsOf("M3")
	if got := firstDays(s, m3); !slices.Equal(got, []string{"2026-02-23", "2026-03-25"}) {
		t.Errorf("M3 rounds on %v, want at once and 30 days later", got)
	}
	checkContacts(t, s)
}

// TestComplaintPause: nothing is planned while a complaint is open; the
// round due during it goes out when it ends.
func TestComplaintPause(t *testing.T) {
	s := newSim(t, schedule(t, "2026-01-15", 1), "2026-01-14 09:00")
	s.until("2026-01-24 10:00")
	s.complaint = at(t, s.loc, "2026-01-30 14:00")
	s.until("2026-02-07 10:00")
	if got := firstDays(s, s.since("2026-01-24 10:00")); !slices.Equal(got, []string{"2026-01-30", "2026-02-06"}) {
		t.Errorf("rounds on %v, want none before the complaint pause ends", got)
	}
	if r := s.since("2026-01-24 10:00")[0]; r.action.At != s.complaint {
		t.Errorf("first round at %s, want when the pause ends, %s", r.action.At, s.complaint)
	}
	for _, w := range s.waits {
		if w.now.After(at(t, s.loc, "2026-01-24 10:00")) && w.now.Before(s.complaint) && w.action.Wait != WaitPaused {
			t.Errorf("at %s: %s during the complaint", w.now, w.action.Wait)
		}
	}
}

// TestRoundAtNight: a round due at night goes out when the window opens,
// and a day whose message cap is taken defers the message to the next day.
func TestRoundAtNight(t *testing.T) {
	loc := zone(t, "Asia/Shanghai")
	r := DefaultRules()
	rows := schedule(t, "2026-01-15", 1)
	night := at(t, loc, "2026-01-20 22:30")
	owed, err := r.Owed(rows, localDate(night, loc), rate)
	must(t, err)
	in := Inputs{Owed: owed, Preferred: contact.Push, Addresses: everywhere, Location: loc}
	a, err := r.Next(State{}, night, in)
	must(t, err)
	if !a.IsRound() || a.At != at(t, loc, "2026-01-21 08:00") || a.Steps[0].Channel != contact.Push {
		t.Fatalf("round %+v, want the push message at 08:00 the next day", a)
	}
	checkRound(t, contact.DefaultRules(), a, night, nil, loc)

	// Two messages already on 2026-01-21: the message goes on the 22nd, the
	// call after it.
	in.History = []contact.Attempt{
		{At: at(t, loc, "2026-01-21 08:30"), Channel: contact.SMS, Outcome: contact.Sent},
		{At: at(t, loc, "2026-01-21 09:00"), Channel: contact.Email, Outcome: contact.Sent},
	}
	morning := at(t, loc, "2026-01-21 10:00")
	a, err = r.Next(State{}, morning, in)
	must(t, err)
	if a.Steps[0].At != at(t, loc, "2026-01-22 08:00") || a.Steps[1].At != a.Steps[0].At || a.Steps[0].Reason == "" {
		t.Errorf("steps %+v, want both on 2026-01-22 08:00 with the cap as reason", a.Steps)
	}
	checkRound(t, contact.DefaultRules(), a, morning, in.History, loc)
}

// TestNoAddress: a step with no usable channel is skipped, and the round
// still counts.
func TestNoAddress(t *testing.T) {
	loc := zone(t, "Asia/Shanghai")
	r := DefaultRules()
	now := at(t, loc, "2026-02-20 10:00")
	owed, err := r.Owed(schedule(t, "2026-01-15", 1), localDate(now, loc), rate)
	must(t, err)
	in := Inputs{Owed: owed, Addresses: contact.Addresses{HasPhone: true}, Location: loc}
	a, err := r.Next(State{}, now, in)
	must(t, err)
	if !slices.Equal(kinds(a), []Kind{CallTask}) || len(a.Skipped) != 1 {
		t.Fatalf("round %+v, want the call and the notice skipped", a)
	}
	s, err := r.Record(State{}, a)
	must(t, err)
	if a, err = r.Next(s, now, in); err != nil || a.Wait != WaitCadence {
		t.Errorf("after the round: %+v, %v; want the cadence", a, err)
	}
	in.Addresses = contact.Addresses{HasPostal: true}
	a, err = r.Next(State{}, now, in)
	must(t, err)
	if len(a.Steps) != 1 || a.Steps[0].Channel != contact.Letter {
		t.Errorf("round %+v, want the notice by letter without email", a)
	}
}

// TestStatus reports the stage, the next action, what is owed and the
// latest contacts.
func TestStatus(t *testing.T) {
	s := newSim(t, schedule(t, "2026-01-15", 3), "2026-01-14 09:00")
	s.until("2026-03-05 10:00")
	in := s.inputs(s.now)
	st, err := s.r.Status(s.state, s.now, in)
	must(t, err)
	if st.Stage != "M2" || st.Bucket != "M2" || st.DaysPastDue != 49 || st.Next.Wait != WaitCadence ||
		st.Next.At != at(t, s.loc, "2026-03-16 08:00") || !st.OwedTotal.Equal(in.Owed.Due.Total()) || st.PayBy != day(t, "2026-03-12") {
		t.Errorf("status %+v", st)
	}
	if len(st.Recent) != min(len(s.history), RecentContacts) || st.Recent[len(st.Recent)-1] != s.history[len(s.history)-1] {
		t.Errorf("recent %v, want the last %d of %v", st.Recent, RecentContacts, s.history)
	}
}
