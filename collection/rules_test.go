package collection

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/fenqi/fenqi/contact"
)

func TestDefaultRules(t *testing.T) {
	r := DefaultRules()
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"grace days", r.GraceDays, 3},
		{"carry tolerance", r.CarryTolerance.String(), "10"},
		{"penalty multiplier", r.Penalty.Multiplier.String(), "1.5"},
		{"penalty day basis", r.Penalty.DayBasis, 360},
		{"penalty cap", r.Penalty.MaxAnnualRate.String(), "0.24"},
		{"pay by days", r.PayByDays, 7},
		{"stages", len(r.Ladder), 5},
		{"M1 every", r.Ladder[0].EveryDays, 7},
		{"M2 every", r.Ladder[1].EveryDays, 14},
		{"M3 every", r.Ladder[2].EveryDays, 30},
		{"M4 from", r.Ladder[3].From, "M4"},
		{"M4 task", r.operatorKind(3), LegalReferral},
		{"M7 task", r.operatorKind(4), WriteOffTask},
		{"top contact stage", r.Ladder[r.topContactStage()].From, "M3"},
		{"promise days", r.Promises.MaxDaysAhead, 30},
		{"hardship days", r.HardshipMaxDays, 30},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, c.got, c.want)
		}
	}
	b, err := json.Marshal(r)
	must(t, err)
	back, err := ParseRules(b)
	must(t, err)
	b2, err := json.Marshal(back)
	must(t, err)
	if string(b2) != string(b) {
		t.Errorf("JSON round trip:\n%s\nwant\n%s", b2, b)
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []struct {
		name   string
		mutate func(*Rules)
		want   string
	}{
		{"grace", func(r *Rules) { r.GraceDays = -1 }, "grace_days"},
		{"tolerance", func(r *Rules) { r.CarryTolerance = d("-1") }, "carry_tolerance"},
		{"multiplier", func(r *Rules) { r.Penalty.Multiplier = d("0") }, "penalty.multiplier"},
		{"day basis", func(r *Rules) { r.Penalty.DayBasis = 0 }, "penalty.day_basis"},
		{"cap", func(r *Rules) { r.Penalty.MaxAnnualRate = d("-0.1") }, "penalty.max_annual_rate"},
		{"pay by", func(r *Rules) { r.PayByDays = 0 }, "pay_by_days"},
		{"no ladder", func(r *Rules) { r.Ladder = nil }, "ladder: must have"},
		{"first not M1", func(r *Rules) { r.Ladder = r.Ladder[1:] }, "ladder[0].from: the first stage must be M1"},
		{"bad bucket", func(r *Rules) { r.Ladder[1].From = "M9" }, "ladder[1].from: must be a bucket"},
		{"out of order", func(r *Rules) { r.Ladder[2].From = "M2" }, "ladder[2].from: must come after"},
		{"every", func(r *Rules) { r.Ladder[0].EveryDays = 0 }, "ladder[0].every_days"},
		{"no actions", func(r *Rules) { r.Ladder[1].Actions = nil }, "ladder[1].actions: must not be empty"},
		{"unknown kind", func(r *Rules) { r.Ladder[0].Actions[0].Kind = "visit" }, "ladder[0].actions[0].kind"},
		{"call by sms", func(r *Rules) { r.Ladder[0].Actions[1].Channels = []contact.Channel{contact.SMS} }, "a call task uses phone only"},
		{"message by phone", func(r *Rules) { r.Ladder[0].Actions[0].Channels = []contact.Channel{contact.Phone} }, "cannot use phone"},
		{"no channel", func(r *Rules) { r.Ladder[0].Actions[0].Channels = nil }, "needs at least one channel"},
		{"twice", func(r *Rules) { r.Ladder[0].Actions[0].Channels = []contact.Channel{contact.SMS, contact.SMS} }, "listed twice"},
		{"operator channel", func(r *Rules) { r.Ladder[3].Actions[0].Channels = []contact.Channel{contact.Letter} }, "an operator task (legal_referral) has no channel"},
		{"operator in M1", func(r *Rules) { r.Ladder[0].Actions = append(r.Ladder[0].Actions, ActionSpec{Kind: LegalReferral}) }, "M1 stage must be contacts only"},
		{"two tasks", func(r *Rules) { r.Ladder[3].Actions = append(r.Ladder[3].Actions, ActionSpec{Kind: LegalReferral}) }, "at most one operator task"},
		{"write-off early", func(r *Rules) { r.Ladder[3].Actions[0].Kind = WriteOffTask }, "write_off must be in the last stage"},
		{"negotiate every", func(r *Rules) { r.Negotiate.EveryDays = 0 }, "negotiate.every_days"},
		{"negotiate task", func(r *Rules) { r.Negotiate.Actions = []ActionSpec{{Kind: LegalReferral}} }, "negotiate.actions[0].kind: must be a contact"},
		{"promise days", func(r *Rules) { r.Promises.MaxDaysAhead = -1 }, "promise.max_days_ahead"},
		{"promise share", func(r *Rules) { r.Promises.MinShare = d("1.5") }, "promise.min_share"},
		{"hardship", func(r *Rules) { r.HardshipMaxDays = -1 }, "hardship_max_days"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := DefaultRules()
			c.mutate(&r)
			err := r.Validate()
			if !errors.Is(err, ErrInvalidRules) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want an error naming %q", err, c.want)
			}
		})
	}
	// Every bad field is reported at once.
	r := DefaultRules()
	r.GraceDays, r.PayByDays, r.HardshipMaxDays = -1, 0, -1
	err := r.Validate()
	for _, f := range []string{"grace_days", "pay_by_days", "hardship_max_days"} {
		if err == nil || !strings.Contains(err.Error(), f) {
			t.Errorf("got %v, want %s reported too", err, f)
		}
	}
}

func TestParseAndLoadRules(t *testing.T) {
	if _, err := ParseRules([]byte(`{"grace_days": 3, "grace": 4}`)); err == nil || !strings.Contains(err.Error(), `unknown field "grace"`) {
		t.Errorf("unknown field: %v", err)
	}
	if _, err := ParseRules([]byte(`{} {}`)); err == nil || !strings.Contains(err.Error(), "trailing data") {
		t.Errorf("trailing data: %v", err)
	}
	if _, err := ParseRules([]byte(`{}`)); !errors.Is(err, ErrInvalidRules) {
		t.Errorf("empty rules: %v, want invalid", err)
	}
	r, err := LoadRules("")
	if err != nil || !reflect.DeepEqual(r, DefaultRules()) {
		t.Errorf("LoadRules(\"\") = %v, want the defaults", err)
	}
	path := filepath.Join(t.TempDir(), "rules.json")
	must(t, os.WriteFile(path, []byte(strings.Replace(string(defaultRulesJSON), `"pay_by_days": 7`, `"pay_by_days": 10`, 1)), 0o600))
	if r, err = LoadRules(path); err != nil || r.PayByDays != 10 {
		t.Errorf("LoadRules(%s) = %d, %v; want pay_by_days 10", path, r.PayByDays, err)
	}
	if _, err = LoadRules(filepath.Join(t.TempDir(), "missing.json")); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("missing file: %v", err)
	}
}
