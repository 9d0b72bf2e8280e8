package contact

import (
	"errors"
	"testing"
)

func TestDefaultRules(t *testing.T) {
	r := DefaultRules()
	if err := r.Validate(); err != nil {
		t.Fatalf("DefaultRules().Validate() = %v", err)
	}
	if r.WindowOpen.String() != "08:00" || r.WindowClose.String() != "21:00" {
		t.Errorf("window %s-%s, want 08:00-21:00", r.WindowOpen, r.WindowClose)
	}
	if r.MaxConnectedCallsPerDay != 3 || r.MaxCallAttemptsPerDay != 6 || r.MaxCallAttemptsRolling != 7 || r.QuietDaysAfterConversation != 7 || r.RollingDays != 7 {
		t.Errorf("call rules %+v, want 3 connected and 6 attempts a day, 7 attempts and 7 quiet days in 7 days", r)
	}
	if r.MaxMessagesPerDay != 2 || r.MaxMessagesRolling != 6 {
		t.Errorf("message caps %d a day, %d a week, want 2 and 6", r.MaxMessagesPerDay, r.MaxMessagesRolling)
	}
	if join(r.Fallback) != "push, sms, email" {
		t.Errorf("fallback %s, want push, sms, email", join(r.Fallback))
	}
}

func TestRulesValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Rules)
		ok     bool
	}{
		{"defaults", func(*Rules) {}, true},
		{"whole day", func(r *Rules) { r.WindowOpen, r.WindowClose = TimeOfDay{}, TimeOfDay{Hour: 24} }, true},
		{"caps off", func(r *Rules) {
			r.MaxConnectedCallsPerDay, r.MaxCallAttemptsPerDay, r.MaxCallAttemptsRolling = 0, 0, 0
			r.QuietDaysAfterConversation, r.MaxMessagesPerDay, r.MaxMessagesRolling = 0, 0, 0
		}, true},
		{"no fallback", func(r *Rules) { r.Fallback = nil }, true},
		{"zero rules", func(r *Rules) { *r = Rules{} }, false},
		{"opening after closing", func(r *Rules) { r.WindowOpen = TimeOfDay{Hour: 21, Minute: 30} }, false},
		{"empty window", func(r *Rules) { r.WindowClose = r.WindowOpen }, false},
		{"opening at 24:00", func(r *Rules) { r.WindowOpen = TimeOfDay{Hour: 24} }, false},
		{"closing at 24:30", func(r *Rules) { r.WindowClose = TimeOfDay{Hour: 24, Minute: 30} }, false},
		{"minute 60", func(r *Rules) { r.WindowOpen = TimeOfDay{Hour: 7, Minute: 60} }, false},
		{"negative hour", func(r *Rules) { r.WindowOpen = TimeOfDay{Hour: -1} }, false},
		{"negative cap", func(r *Rules) { r.MaxMessagesPerDay = -1 }, false},
		{"negative quiet days", func(r *Rules) { r.QuietDaysAfterConversation = -7 }, false},
		{"no rolling days", func(r *Rules) { r.RollingDays = 0 }, false},
		{"no search", func(r *Rules) { r.SearchDays = 0 }, false},
		{"search too far", func(r *Rules) { r.SearchDays = MaxSearchDays + 1 }, false},
		{"unknown fallback", func(r *Rules) { r.Fallback = []Channel{Push, "fax"} }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := DefaultRules()
			tt.change(&r)
			err := r.Validate()
			if tt.ok && err != nil {
				t.Fatalf("Validate() = %v, want nil", err)
			}
			if !tt.ok && !errors.Is(err, ErrInvalidRules) {
				t.Fatalf("Validate() = %v, want an error wrapping ErrInvalidRules", err)
			}
		})
	}
}

func TestChannels(t *testing.T) {
	for _, ch := range Channels {
		if !ch.Valid() {
			t.Errorf("%s not valid", ch)
		}
		if ch.Written() == (ch == Phone) {
			t.Errorf("%s: Written() = %v", ch, ch.Written())
		}
		if !everywhere.Has(ch) || (Addresses{}).Has(ch) {
			t.Errorf("%s: Has does not follow the addresses", ch)
		}
	}
	for _, o := range Outcomes {
		if !o.Valid() {
			t.Errorf("%s not valid", o)
		}
	}
	if Channel("fax").Valid() || Channel("fax").Written() || Outcome("maybe").Valid() || everywhere.Has("fax") {
		t.Error("unknown channel or outcome accepted")
	}
	phoneOnly := Addresses{HasPhone: true}
	if !phoneOnly.Has(SMS) || !phoneOnly.Has(Phone) || phoneOnly.Has(Email) || phoneOnly.Has(Push) || phoneOnly.Has(Letter) {
		t.Errorf("a phone number reaches sms and phone only")
	}
}
