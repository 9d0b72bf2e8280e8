package contact

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestPlan(t *testing.T) {
	sh := zone(t, "Asia/Shanghai")
	ny := zone(t, "America/New_York")
	twoMessages := attempts(t, sh, SMS, Sent, "2026-03-04 09:00", "2026-03-04 12:00")
	conversation := attempts(t, sh, Phone, Connected, "2026-03-04 10:00")
	sixMessages := attempts(t, sh, SMS, Delivered, "2026-03-01 10:00", "2026-03-01 11:00", "2026-03-03 10:00", "2026-03-03 11:00", "2026-03-05 10:00", "2026-03-05 11:00")
	smsOnly := Addresses{HasPhone: true}

	tests := []struct {
		name          string
		req           Request
		history       []Attempt
		loc           *time.Location
		at            time.Time
		ch            Channel
		reason        string // the whole Reason
		channelReason string // the whole ChannelReason
	}{
		{
			name: "due at 02:00: sent at 08:00 the same day",
			req:  Request{Earliest: local(t, sh, "2026-03-04 02:00"), Preferred: SMS, Addresses: everywhere},
			loc:  sh, at: local(t, sh, "2026-03-04 08:00"), ch: SMS,
			reason: "outside the 08:00-21:00 window in Asia/Shanghai: sent when it opens",
		},
		{
			name: "due at 21:30: sent at 08:00 the next day",
			req:  Request{Earliest: local(t, sh, "2026-03-04 21:30"), Preferred: Push, Addresses: everywhere},
			loc:  sh, at: local(t, sh, "2026-03-05 08:00"), ch: Push,
			reason: "outside the 08:00-21:00 window in Asia/Shanghai: sent when it opens",
		},
		{
			name: "due at 08:00: sent at once",
			req:  Request{Earliest: local(t, sh, "2026-03-04 08:00"), Preferred: Email, Addresses: everywhere},
			loc:  sh, at: local(t, sh, "2026-03-04 08:00"), ch: Email,
		},
		{
			name: "due at 21:00: the window has closed",
			req:  Request{Earliest: local(t, sh, "2026-03-04 21:00"), Preferred: Email, Addresses: everywhere},
			loc:  sh, at: local(t, sh, "2026-03-05 08:00"), ch: Email,
			reason: "outside the 08:00-21:00 window in Asia/Shanghai: sent when it opens",
		},
		{
			name: "due at 20:59:30: sent at once",
			req:  Request{Earliest: local(t, sh, "2026-03-04 20:59").Add(30 * time.Second), Preferred: SMS, Addresses: everywhere},
			loc:  sh, at: local(t, sh, "2026-03-04 20:59").Add(30 * time.Second), ch: SMS,
		},
		{
			name:    "daily message cap: every written channel waits for the next day",
			req:     Request{Earliest: local(t, sh, "2026-03-04 15:00"), Preferred: SMS, Addresses: everywhere},
			history: twoMessages, loc: sh, at: local(t, sh, "2026-03-05 08:00"), ch: SMS,
			reason: "the daily cap of 2 messages is reached",
		},
		{
			name:    "daily message cap in the evening: the window too",
			req:     Request{Earliest: local(t, sh, "2026-03-04 23:00"), Preferred: SMS, Addresses: everywhere},
			history: all(twoMessages, attempts(t, sh, Email, Sent, "2026-03-05 07:00", "2026-03-05 07:30")), loc: sh, at: local(t, sh, "2026-03-06 08:00"), ch: SMS,
			reason: "outside the 08:00-21:00 window in Asia/Shanghai; the daily cap of 2 messages is reached",
		},
		{
			name:    "daily message cap: a phone fallback goes at once",
			req:     Request{Earliest: local(t, sh, "2026-03-04 15:00"), Preferred: SMS, Fallback: []Channel{Email, Phone}, Addresses: everywhere},
			history: twoMessages, loc: sh, at: local(t, sh, "2026-03-04 15:00"), ch: Phone,
			channelReason: "sms: the daily cap of 2 messages is reached; email: the daily cap of 2 messages is reached",
		},
		{
			name:    "rolling message cap",
			req:     Request{Earliest: local(t, sh, "2026-03-07 10:00"), Preferred: Push, Addresses: everywhere},
			history: sixMessages, loc: sh, at: local(t, sh, "2026-03-08 08:00"), ch: Push,
			reason: "the cap of 6 messages in 7 days is reached",
		},
		{
			name: "preferred channel without an address: the fallback order",
			req:  Request{Earliest: local(t, sh, "2026-03-04 10:00"), Preferred: Email, Addresses: smsOnly},
			loc:  sh, at: local(t, sh, "2026-03-04 10:00"), ch: SMS,
			channelReason: "email: no address; push: no address",
		},
		{
			name: "no preference: the rules' fallback order",
			req:  Request{Earliest: local(t, sh, "2026-03-04 10:00"), Addresses: everywhere},
			loc:  sh, at: local(t, sh, "2026-03-04 10:00"), ch: Push,
		},
		{
			name: "the request's fallback replaces the rules'",
			req:  Request{Earliest: local(t, sh, "2026-03-04 10:00"), Preferred: Push, Fallback: []Channel{Letter}, Addresses: Addresses{HasPostal: true, HasPhone: true}},
			loc:  sh, at: local(t, sh, "2026-03-04 10:00"), ch: Letter,
			channelReason: "push: no address",
		},
		{
			name:    "a call after a conversation: the message fallback goes at once",
			req:     Request{Earliest: local(t, sh, "2026-03-05 09:00"), Preferred: Phone, Addresses: everywhere},
			history: conversation, loc: sh, at: local(t, sh, "2026-03-05 09:00"), ch: Push,
			channelReason: "phone: no call within 7 days after the conversation on 2026-03-04",
		},
		{
			name:    "a call only: 7 days after the conversation",
			req:     Request{Earliest: local(t, sh, "2026-03-05 09:00"), Preferred: Phone, Fallback: []Channel{Phone}, Addresses: everywhere},
			history: conversation, loc: sh, at: local(t, sh, "2026-03-11 08:00"), ch: Phone,
			reason: "no call within 7 days after the conversation on 2026-03-04",
		},
		{
			name:    "call attempts: daily then rolling cap",
			req:     Request{Earliest: local(t, sh, "2026-03-05 18:00"), Preferred: Phone, Fallback: []Channel{Phone}, Addresses: everywhere},
			history: attempts(t, sh, Phone, NoAnswer, "2026-03-04 09:00", "2026-03-04 10:00", "2026-03-04 11:00", "2026-03-05 09:00", "2026-03-05 10:00", "2026-03-05 11:00", "2026-03-05 12:00", "2026-03-05 13:00", "2026-03-05 14:00"),
			loc:     sh, at: local(t, sh, "2026-03-11 08:00"), ch: Phone, // 03-05..03-11 hold 6 attempts
			reason: "the daily cap of 6 call attempts is reached; the cap of 7 call attempts in 7 days is reached",
		},
		{
			name: "New York before the spring change: 08:00 EST",
			req:  Request{Earliest: utc(t, "2026-03-07T06:30:00Z"), Preferred: SMS, Addresses: everywhere},
			loc:  ny, at: utc(t, "2026-03-07T13:00:00Z"), ch: SMS,
			reason: "outside the 08:00-21:00 window in America/New_York: sent when it opens",
		},
		{
			name: "New York on the spring change: 08:00 EDT",
			req:  Request{Earliest: utc(t, "2026-03-08T06:30:00Z"), Preferred: SMS, Addresses: everywhere},
			loc:  ny, at: utc(t, "2026-03-08T12:00:00Z"), ch: SMS,
			reason: "outside the 08:00-21:00 window in America/New_York: sent when it opens",
		},
		{
			name: "New York 21:30 EST the night before the change: 08:00 EDT",
			req:  Request{Earliest: utc(t, "2026-03-08T02:30:00Z"), Preferred: SMS, Addresses: everywhere},
			loc:  ny, at: utc(t, "2026-03-08T12:00:00Z"), ch: SMS,
			reason: "outside the 08:00-21:00 window in America/New_York: sent when it opens",
		},
		{
			name: "New York 21:00 EDT after the change",
			req:  Request{Earliest: utc(t, "2026-03-09T01:00:00Z"), Preferred: SMS, Addresses: everywhere},
			loc:  ny, at: utc(t, "2026-03-09T12:00:00Z"), ch: SMS,
			reason: "outside the 08:00-21:00 window in America/New_York: sent when it opens",
		},
	}
	r := DefaultRules()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := r.Plan(tt.req, tt.history, tt.loc)
			if err != nil {
				t.Fatalf("Plan = %v", err)
			}
			if !d.At.Equal(tt.at) || d.Channel != tt.ch {
				t.Fatalf("Plan = %s by %s, want %s by %s (%+v)", d.At.In(tt.loc), d.Channel, tt.at.In(tt.loc), tt.ch, d)
			}
			if d.Deferred != d.At.After(tt.req.Earliest) || d.Reason != tt.reason || d.ChannelReason != tt.channelReason {
				t.Fatalf("Plan = deferred %v, reason %q, channel reason %q; want reason %q, channel reason %q", d.Deferred, d.Reason, d.ChannelReason, tt.reason, tt.channelReason)
			}
			if err := r.Check(d.At, d.Channel, tt.history, tt.loc); err != nil {
				t.Fatalf("the decision fails Check: %v", err)
			}
		})
	}
}

func TestPlanErrors(t *testing.T) {
	sh := zone(t, "Asia/Shanghai")
	at := local(t, sh, "2026-03-04 10:00")
	short := DefaultRules()
	short.SearchDays = 3
	tests := []struct {
		name    string
		rules   Rules
		req     Request
		history []Attempt
		loc     *time.Location
		want    error
		text    string
	}{
		{"no address at all", DefaultRules(), Request{Earliest: at, Preferred: SMS, Purpose: "reminder D-3"}, nil, sh, ErrNoChannel, `plan contact "reminder D-3" due 2026-03-04T10:00:00+08:00: no channel to contact the customer on: no address for any of [sms, push, email]`},
		{"no channel to try", Rules{WindowOpen: TimeOfDay{Hour: 8}, WindowClose: TimeOfDay{Hour: 21}, RollingDays: 7, SearchDays: 60}, Request{Earliest: at, Addresses: everywhere}, nil, sh, ErrNoChannel, "no address for any of []"},
		{"unknown preferred channel", DefaultRules(), Request{Earliest: at, Preferred: "fax", Addresses: everywhere}, nil, sh, ErrInvalidInput, `preferred channel "fax"`},
		{"unknown fallback channel", DefaultRules(), Request{Earliest: at, Fallback: []Channel{SMS, "fax"}, Addresses: everywhere}, nil, sh, ErrInvalidInput, `request fallback[1] "fax"`},
		{"no earliest instant", DefaultRules(), Request{Preferred: SMS, Addresses: everywhere}, nil, sh, ErrInvalidInput, "no earliest instant"},
		{"no time zone", DefaultRules(), Request{Earliest: at, Preferred: SMS, Addresses: everywhere}, nil, nil, ErrInvalidInput, "no time zone"},
		{"invalid rules", Rules{}, Request{Earliest: at, Preferred: SMS, Addresses: everywhere}, nil, sh, ErrInvalidRules, "window"},
		{"bad history", DefaultRules(), Request{Earliest: at, Preferred: SMS, Addresses: everywhere}, []Attempt{{At: at, Channel: SMS, Outcome: "lost"}}, sh, ErrInvalidInput, "history[0]"},
		{"nothing allowed in the days searched", short, Request{Earliest: at, Preferred: Phone, Fallback: []Channel{Phone}, Addresses: everywhere}, attempts(t, sh, Phone, Connected, "2026-03-04 09:00"), sh, ErrNoSlot,
			"no allowed contact by phone within 3 days after the local day of 2026-03-04T10:00:00+08:00: no call within 7 days after the conversation on 2026-03-04"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := tt.rules.Plan(tt.req, tt.history, tt.loc)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("Plan = %+v, %v; want %v mentioning %q", d, err, tt.want, tt.text)
			}
			if d != (Decision{}) {
				t.Fatalf("Plan returned %+v with an error", d)
			}
		})
	}
}

func TestNextAllowed(t *testing.T) {
	sh := zone(t, "Asia/Shanghai")
	r := DefaultRules()
	conversation := attempts(t, sh, Phone, Connected, "2026-03-04 10:00")
	tests := []struct {
		name    string
		now     time.Time
		ch      Channel
		history []Attempt
		want    time.Time
		reason  string
	}{
		{"now", local(t, sh, "2026-03-04 10:00"), SMS, nil, local(t, sh, "2026-03-04 10:00"), ""},
		{"at night", local(t, sh, "2026-03-04 22:00"), SMS, nil, local(t, sh, "2026-03-05 08:00"), "outside the 08:00-21:00 window in Asia/Shanghai: sent when it opens"},
		{"a call after a conversation", local(t, sh, "2026-03-04 22:00"), Phone, conversation, local(t, sh, "2026-03-11 08:00"), "outside the 08:00-21:00 window in Asia/Shanghai; no call within 7 days after the conversation on 2026-03-04"},
		{"a message after a conversation", local(t, sh, "2026-03-04 12:00"), Email, conversation, local(t, sh, "2026-03-04 12:00"), ""},
	}
	for _, tt := range tests {
		got, reason := r.NextAllowed(tt.now, tt.ch, tt.history, sh)
		if !got.Equal(tt.want) || reason != tt.reason {
			t.Errorf("%s: NextAllowed = %v, %q; want %v, %q", tt.name, got, reason, tt.want, tt.reason)
		}
	}
	for _, bad := range []struct {
		name  string
		rules Rules
		ch    Channel
		loc   *time.Location
		text  string
	}{
		{"invalid rules", Rules{}, SMS, sh, "invalid contact rules"},
		{"unknown channel", r, "fax", sh, `unknown channel "fax"`},
		{"no time zone", r, SMS, nil, "no time zone"},
	} {
		got, reason := bad.rules.NextAllowed(local(t, sh, "2026-03-04 10:00"), bad.ch, nil, bad.loc)
		if !got.IsZero() || !strings.Contains(reason, bad.text) {
			t.Errorf("%s: NextAllowed = %v, %q; want the zero time and %q", bad.name, got, reason, bad.text)
		}
	}
	short := r
	short.SearchDays = 2
	got, reason := short.NextAllowed(local(t, sh, "2026-03-04 12:00"), Phone, conversation, sh)
	if !got.IsZero() || !strings.Contains(reason, "no allowed contact by phone within 2 days") {
		t.Errorf("NextAllowed past the search = %v, %q; want the zero time and no allowed contact", got, reason)
	}
	bad := []Attempt{{At: local(t, sh, "2026-03-04 09:00"), Channel: "pigeon", Outcome: Sent}}
	if got, reason := r.NextAllowed(local(t, sh, "2026-03-04 12:00"), SMS, bad, sh); !got.IsZero() || !strings.Contains(reason, "history[0]") {
		t.Errorf("NextAllowed with a bad history = %v, %q", got, reason)
	}
}

// TestPlanDeterministic plans the same request many times, with the history
// in two orders: the decision never changes.
func TestPlanDeterministic(t *testing.T) {
	sh := zone(t, "Asia/Shanghai")
	h := all(attempts(t, sh, SMS, Sent, "2026-03-04 09:00"), attempts(t, sh, Phone, Connected, "2026-03-02 10:00"), attempts(t, sh, Email, Failed, "2026-03-04 11:00"))
	rev := []Attempt{h[2], h[1], h[0]}
	req := Request{Earliest: local(t, sh, "2026-03-04 12:00"), Preferred: Phone, Addresses: everywhere, Purpose: "demo"}
	first, err := DefaultRules().Plan(req, h, sh)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		hist := h
		if i%2 == 1 {
			hist = rev
		}
		d, err := DefaultRules().Plan(req, hist, sh)
		if err != nil || !d.At.Equal(first.At) || d.Channel != first.Channel || d.Reason != first.Reason || d.ChannelReason != first.ChannelReason {
			t.Fatalf("run %d: %+v, %v; first %+v", i, d, err, first)
		}
	}
}
