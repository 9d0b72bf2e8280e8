package contact

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCheck(t *testing.T) {
	sh := zone(t, "Asia/Shanghai")
	ny := zone(t, "America/New_York")
	noQuiet := DefaultRules()
	noQuiet.QuietDaysAfterConversation = 0
	twoMessages := attempts(t, sh, SMS, Sent, "2026-03-04 09:00", "2026-03-04 12:00")

	tests := []struct {
		name    string
		rules   Rules
		at      time.Time
		ch      Channel
		history []Attempt
		loc     *time.Location
		rule    Rule   // "" when allowed
		detail  string // part of the violation's detail
	}{
		// The window, [08:00, 21:00) local time.
		{name: "08:00 is inside", at: local(t, sh, "2026-03-04 08:00"), ch: SMS, loc: sh},
		{name: "20:59:59 is inside", at: local(t, sh, "2026-03-04 20:59").Add(59 * time.Second), ch: SMS, loc: sh},
		{name: "07:59:59 is outside", at: local(t, sh, "2026-03-04 07:59").Add(59 * time.Second), ch: SMS, loc: sh, rule: RuleWindow, detail: "outside the 08:00-21:00 window in Asia/Shanghai"},
		{name: "21:00 is outside", at: local(t, sh, "2026-03-04 21:00"), ch: Phone, loc: sh, rule: RuleWindow},
		{name: "02:00 is outside", at: local(t, sh, "2026-03-04 02:00"), ch: Push, loc: sh, rule: RuleWindow},
		{name: "the window is local: 08:00 Shanghai is 00:00 UTC", at: utc(t, "2026-03-04T00:00:00Z"), ch: Email, loc: sh},
		{name: "the window is local: 13:00 UTC is 21:00 Shanghai", at: utc(t, "2026-03-04T13:00:00Z"), ch: Email, loc: sh, rule: RuleWindow},

		// Daylight saving time in New York: the window stays 08:00-21:00 local.
		{name: "New York 08:00 EST is 13:00 UTC", at: utc(t, "2026-03-07T13:00:00Z"), ch: SMS, loc: ny},
		{name: "New York 07:59 EST", at: utc(t, "2026-03-07T12:59:00Z"), ch: SMS, loc: ny, rule: RuleWindow},
		{name: "New York 08:00 EDT is 12:00 UTC", at: utc(t, "2026-03-08T12:00:00Z"), ch: SMS, loc: ny},
		{name: "New York 07:59 EDT", at: utc(t, "2026-03-08T11:59:00Z"), ch: SMS, loc: ny, rule: RuleWindow},
		{name: "New York 20:59 EDT", at: utc(t, "2026-03-09T00:59:00Z"), ch: SMS, loc: ny},
		{name: "New York 21:00 EDT", at: utc(t, "2026-03-09T01:00:00Z"), ch: SMS, loc: ny, rule: RuleWindow},

		// Message caps per local day: two a day.
		{name: "third message of the day", at: local(t, sh, "2026-03-04 15:00"), ch: Email, history: twoMessages, loc: sh, rule: RuleMessagesDaily, detail: "the daily cap of 2 messages is reached"},
		{name: "first message of the next day", at: local(t, sh, "2026-03-05 08:00"), ch: Email, history: twoMessages, loc: sh},
		{name: "messages after the instant do not count", at: local(t, sh, "2026-03-04 08:30"), ch: SMS, history: twoMessages, loc: sh},
		{name: "deferred attempts do not count", at: local(t, sh, "2026-03-04 15:00"), ch: SMS, history: attempts(t, sh, SMS, Deferred, "2026-03-04 09:00", "2026-03-04 12:00"), loc: sh},
		{name: "failed messages count", at: local(t, sh, "2026-03-04 15:00"), ch: Letter, history: attempts(t, sh, Push, Failed, "2026-03-04 09:00", "2026-03-04 12:00"), loc: sh, rule: RuleMessagesDaily},
		{name: "calls do not use the message cap", at: local(t, sh, "2026-03-04 15:00"), ch: Phone, history: twoMessages, loc: sh},
		// The local day, not the UTC day: 00:30 and 07:00 on 03-04 in
		// Shanghai are on 03-03 in UTC, and 08:00 on 03-04 in Shanghai is
		// 00:00 UTC on 03-04, a UTC day with no message yet.
		{name: "the cap counts the local day", at: utc(t, "2026-03-04T00:00:00Z"), ch: SMS, history: attempts(t, sh, SMS, Sent, "2026-03-04 00:30", "2026-03-04 07:00"), loc: sh, rule: RuleMessagesDaily},
		{name: "the previous local day does not count", at: utc(t, "2026-03-04T00:00:00Z"), ch: SMS, history: attempts(t, sh, SMS, Sent, "2026-03-03 20:30", "2026-03-03 20:45"), loc: sh},

		// Rolling message cap: 6 in the 7 local days ending with today.
		{name: "seventh message in 7 days", at: local(t, sh, "2026-03-07 10:00"), ch: Push, history: attempts(t, sh, SMS, Delivered, "2026-03-01 10:00", "2026-03-01 11:00", "2026-03-03 10:00", "2026-03-03 11:00", "2026-03-05 10:00", "2026-03-05 11:00"), loc: sh, rule: RuleMessagesRolling, detail: "the cap of 6 messages in 7 days is reached"},
		{name: "the oldest day rolls off", at: local(t, sh, "2026-03-08 08:00"), ch: Push, history: attempts(t, sh, SMS, Delivered, "2026-03-01 10:00", "2026-03-01 11:00", "2026-03-03 10:00", "2026-03-03 11:00", "2026-03-05 10:00", "2026-03-05 11:00"), loc: sh},

		// Calls: 6 attempts a day, 7 in 7 days.
		{name: "seventh call attempt of the day", at: local(t, sh, "2026-03-04 18:00"), ch: Phone, history: attempts(t, sh, Phone, NoAnswer, "2026-03-04 09:00", "2026-03-04 10:00", "2026-03-04 11:00", "2026-03-04 12:00", "2026-03-04 13:00", "2026-03-04 14:00"), loc: sh, rule: RuleCallAttemptsDaily, detail: "the daily cap of 6 call attempts is reached"},
		{name: "seventh attempt the next day", at: local(t, sh, "2026-03-05 08:00"), ch: Phone, history: attempts(t, sh, Phone, NoAnswer, "2026-03-04 09:00", "2026-03-04 10:00", "2026-03-04 11:00", "2026-03-04 12:00", "2026-03-04 13:00", "2026-03-04 14:00"), loc: sh},
		{name: "eighth attempt in 7 days", at: local(t, sh, "2026-03-10 20:00"), ch: Phone, history: attempts(t, sh, Phone, NoAnswer, "2026-03-04 09:00", "2026-03-04 10:00", "2026-03-04 11:00", "2026-03-04 12:00", "2026-03-04 13:00", "2026-03-04 14:00", "2026-03-05 09:00"), loc: sh, rule: RuleCallAttemptsRolling, detail: "the cap of 7 call attempts in 7 days is reached"},
		{name: "eighth attempt once the day rolls off", at: local(t, sh, "2026-03-11 08:00"), ch: Phone, history: attempts(t, sh, Phone, NoAnswer, "2026-03-04 09:00", "2026-03-04 10:00", "2026-03-04 11:00", "2026-03-04 12:00", "2026-03-04 13:00", "2026-03-04 14:00", "2026-03-05 09:00"), loc: sh},
		{name: "failed calls are attempts", at: local(t, sh, "2026-03-04 18:00"), ch: Phone, history: attempts(t, sh, Phone, Failed, "2026-03-04 09:00", "2026-03-04 10:00", "2026-03-04 11:00", "2026-03-04 12:00", "2026-03-04 13:00", "2026-03-04 14:00"), loc: sh, rule: RuleCallAttemptsDaily},
		{name: "messages are not call attempts", at: local(t, sh, "2026-03-04 18:00"), ch: Phone, history: attempts(t, sh, SMS, Sent, "2026-03-04 09:00", "2026-03-04 10:00", "2026-03-04 11:00", "2026-03-04 12:00", "2026-03-04 13:00", "2026-03-04 14:00", "2026-03-04 15:00"), loc: sh},

		// No call within 7 days after a conversation (the day of it is the first).
		{name: "call the same day as a conversation", at: local(t, sh, "2026-03-04 11:00"), ch: Phone, history: attempts(t, sh, Phone, Connected, "2026-03-04 10:00"), loc: sh, rule: RuleConversation, detail: "no call within 7 days after the conversation on 2026-03-04"},
		{name: "call on the seventh day", at: local(t, sh, "2026-03-10 20:59"), ch: Phone, history: attempts(t, sh, Phone, Connected, "2026-03-04 10:00"), loc: sh, rule: RuleConversation},
		{name: "call on the eighth day", at: local(t, sh, "2026-03-11 08:00"), ch: Phone, history: attempts(t, sh, Phone, Connected, "2026-03-04 10:00"), loc: sh},
		{name: "the latest conversation is named", at: local(t, sh, "2026-03-09 08:00"), ch: Phone, history: all(attempts(t, sh, Phone, Connected, "2026-03-06 10:00"), attempts(t, sh, Phone, Connected, "2026-03-04 10:00")), loc: sh, rule: RuleConversation, detail: "conversation on 2026-03-06"},
		{name: "an unanswered call is no conversation", at: local(t, sh, "2026-03-04 11:00"), ch: Phone, history: attempts(t, sh, Phone, NoAnswer, "2026-03-04 10:00"), loc: sh},
		{name: "messages after a conversation", at: local(t, sh, "2026-03-04 11:00"), ch: SMS, history: attempts(t, sh, Phone, Connected, "2026-03-04 10:00"), loc: sh},
		{name: "a connected call later that day does not count yet", at: local(t, sh, "2026-03-04 09:00"), ch: Phone, history: attempts(t, sh, Phone, Connected, "2026-03-04 10:00"), loc: sh},

		// Connected calls per day, which binds only without the conversation rule.
		{name: "fourth connected call of the day", rules: noQuiet, at: local(t, sh, "2026-03-04 18:00"), ch: Phone, history: attempts(t, sh, Phone, Connected, "2026-03-04 09:00", "2026-03-04 10:00", "2026-03-04 11:00"), loc: sh, rule: RuleConnectedCallsDaily, detail: "the daily cap of 3 connected calls is reached"},
		{name: "three connected calls and a fourth attempt the next day", rules: noQuiet, at: local(t, sh, "2026-03-05 08:00"), ch: Phone, history: attempts(t, sh, Phone, Connected, "2026-03-04 09:00", "2026-03-04 10:00", "2026-03-04 11:00"), loc: sh},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.rules
			if r.SearchDays == 0 {
				r = DefaultRules()
			}
			err := r.Check(tt.at, tt.ch, tt.history, tt.loc)
			if tt.rule == "" {
				if err != nil {
					t.Fatalf("Check = %v, want allowed", err)
				}
				return
			}
			var v *Violation
			if !errors.As(err, &v) {
				t.Fatalf("Check = %v, want a *Violation of %s", err, tt.rule)
			}
			if v.Rule != tt.rule || !strings.Contains(v.Detail, tt.detail) || !v.At.Equal(tt.at) || v.Channel != tt.ch {
				t.Fatalf("Check = %+v, want rule %s with %q", v, tt.rule, tt.detail)
			}
		})
	}
}

func TestCheckInputs(t *testing.T) {
	sh := zone(t, "Asia/Shanghai")
	at := local(t, sh, "2026-03-04 10:00")
	r := DefaultRules()
	tests := []struct {
		name    string
		rules   Rules
		ch      Channel
		history []Attempt
		loc     *time.Location
		want    error
		text    string
	}{
		{"unknown channel", r, "fax", nil, sh, ErrInvalidInput, `unknown channel "fax"`},
		{"no time zone", r, SMS, nil, nil, ErrInvalidInput, "no time zone"},
		{"invalid rules", Rules{}, SMS, nil, sh, ErrInvalidRules, "window"},
		{"unknown channel in the history", r, SMS, []Attempt{{At: at, Channel: SMS, Outcome: Sent}, {At: at, Channel: "pigeon", Outcome: Sent}}, sh, ErrInvalidInput, `history[1]`},
		{"unknown outcome in the history", r, SMS, []Attempt{{At: at, Channel: SMS, Outcome: "lost"}}, sh, ErrInvalidInput, `unknown outcome "lost"`},
		{"attempt without a time", r, SMS, []Attempt{{Channel: SMS, Outcome: Sent}}, sh, ErrInvalidInput, "history[0] by sms: no time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.rules.Check(at, tt.ch, tt.history, tt.loc)
			var v *Violation
			if !errors.Is(err, tt.want) || errors.As(err, &v) || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("Check = %v, want %v mentioning %q", err, tt.want, tt.text)
			}
		})
	}
}

func TestViolationError(t *testing.T) {
	sh := zone(t, "Asia/Shanghai")
	err := DefaultRules().Check(local(t, sh, "2026-03-04 02:00"), SMS, nil, sh)
	want := "contact by sms at 2026-03-04T02:00:00+08:00 breaks the window rule: outside the 08:00-21:00 window in Asia/Shanghai"
	if err == nil || err.Error() != want {
		t.Fatalf("Check = %v, want %q", err, want)
	}
}

// TestCheckWholePlan checks every recorded contact of a plan against the
// ones recorded before it, as a test of a whole plan's history does.
func TestCheckWholePlan(t *testing.T) {
	sh := zone(t, "Asia/Shanghai")
	r := DefaultRules()
	var history []Attempt
	// Reminders D-3 and D0 of twelve monthly instalments, each planned and
	// recorded as it goes out; some due at night.
	due := local(t, sh, "2026-01-15 00:00")
	for k := 0; k < 12; k++ {
		d := due.AddDate(0, k, 0)
		for _, want := range []time.Time{d.AddDate(0, 0, -3).Add(22 * time.Hour), d.Add(6 * time.Hour), d.Add(10 * time.Hour), d.Add(11 * time.Hour)} {
			dec, err := r.Plan(Request{Earliest: want, Preferred: SMS, Purpose: "reminder", Addresses: everywhere}, history, sh)
			if err != nil {
				t.Fatal(err)
			}
			history = append(history, Attempt{At: dec.At, Channel: dec.Channel, Outcome: Delivered})
		}
	}
	for i, a := range history {
		if err := r.Check(a.At, a.Channel, history[:i], sh); err != nil {
			t.Errorf("history[%d]: %v", i, err)
		}
	}
	// A history with one contact too many is caught.
	extra := Attempt{At: history[2].At.Add(time.Minute), Channel: Email, Outcome: Sent}
	err := r.Check(extra.At, extra.Channel, history[:3], sh)
	var v *Violation
	if !errors.As(err, &v) || v.Rule != RuleMessagesDaily {
		t.Fatalf("third message on %s: Check = %v, want the daily message cap", extra.At, err)
	}
	if got := history[3].At; !got.Equal(local(t, sh, "2026-01-16 08:00")) {
		t.Errorf("third reminder of 2026-01-15 sent %v, want the next morning", got)
	}
}
