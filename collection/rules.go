package collection

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/contact"
)

//go:embed default_rules.json
var defaultRulesJSON []byte

// ErrInvalidRules is wrapped by every error Rules.Validate reports.
var ErrInvalidRules = errors.New("invalid collection rules")

// Rules are the collection rules as policy data (default_rules.json is
// embedded and returned by DefaultRules; ParseRules and LoadRules read
// others). Money is a decimal string, rates are fractions. The fields:
//
//	grace_days         an instalment unpaid this many days after its due
//	                   date is overdue (3).
//	carry_tolerance    a shortfall of at most this much is carried to the
//	                   next instalment instead of making an instalment
//	                   overdue (10.00).
//	penalty            penalty interest: multiplier (1.5), day_basis (360),
//	                   max_annual_rate (0.24), see PenaltyRule.
//	pay_by_days        the pay-by date stated in messages is this many
//	                   days after the day they are computed (7).
//	ladder             the stages, see StageRule: M1 weekly, M2 every 14
//	                   days, M3 every 30 days, M4 legal referral, M7
//	                   write-off.
//	negotiate          the rounds while an operator negotiates instead of
//	                   referring (every 14 days: restructuring offer and a
//	                   call task), see Round.
//	promise            max_days_ahead (30): the latest promise date after
//	                   today; min_share (0): the smallest promise as a share
//	                   of what is owed (0: any amount above zero).
//	hardship_max_days  the longest hardship pause an operator may grant (30).
type Rules struct {
	GraceDays       int             `json:"grace_days"`
	CarryTolerance  decimal.Decimal `json:"carry_tolerance"`
	Penalty         PenaltyRule     `json:"penalty"`
	PayByDays       int             `json:"pay_by_days"`
	Ladder          []StageRule     `json:"ladder"`
	Negotiate       Round           `json:"negotiate"`
	Promises        PromiseRules    `json:"promise"`
	HardshipMaxDays int             `json:"hardship_max_days"`
}

// PenaltyRule is calc.PenaltyRule as policy data: penalty interest is the
// overdue principal x min(annual rate x Multiplier, MaxAnnualRate) /
// DayBasis per day, never compounded.
type PenaltyRule struct {
	Multiplier    decimal.Decimal `json:"multiplier"`
	DayBasis      int             `json:"day_basis"`
	MaxAnnualRate decimal.Decimal `json:"max_annual_rate"`
}

// Calc returns the rule as the calculator's penalty rule.
func (p PenaltyRule) Calc() calc.PenaltyRule {
	return calc.PenaltyRule{Multiplier: p.Multiplier, DayBasis: p.DayBasis, MaxAnnualRate: p.MaxAnnualRate}
}

// StageRule is one stage of the ladder: from the bucket From on (until the
// next stage's From), a round of Actions is due on entering the stage and
// then every EveryDays days. A stage whose actions include an operator task
// (legal_referral or write_off) is an operator stage: its round raises the
// task once and the ladder then waits for the operator's decision (see
// Rules.Next).
type StageRule struct {
	From      string       `json:"from"`
	EveryDays int          `json:"every_days"`
	Actions   []ActionSpec `json:"actions"`
}

// Round is a cadence of actions outside the ladder (negotiate).
type Round struct {
	EveryDays int          `json:"every_days"`
	Actions   []ActionSpec `json:"actions"`
}

// PromiseRules bound a promise to pay.
type PromiseRules struct {
	MaxDaysAhead int             `json:"max_days_ahead"`
	MinShare     decimal.Decimal `json:"min_share"`
}

// Kind is what one step of a round does.
type Kind string

// The kinds of step. Message, Notice, DemandLetter and RestructureOffer are
// written contacts, CallTask is an agent's call (a phone contact), and
// LegalReferral and WriteOffTask are operator tasks, not contacts.
const (
	Message          Kind = "message"           // a reminder by sms or push
	CallTask         Kind = "call_task"         // an agent's call
	Notice           Kind = "notice"            // a written notice of arrears, email or letter
	DemandLetter     Kind = "demand_letter"     // a formal demand for payment
	RestructureOffer Kind = "restructure_offer" // an invitation to an arrears plan or a restructure
	LegalReferral    Kind = "legal_referral"    // an operator decides: refer, hold or negotiate
	WriteOffTask     Kind = "write_off"         // an operator decides: write off or keep collecting
)

// Kinds lists every kind.
var Kinds = []Kind{Message, CallTask, Notice, DemandLetter, RestructureOffer, LegalReferral, WriteOffTask}

// Valid reports whether k is one of Kinds.
func (k Kind) Valid() bool { return slices.Contains(Kinds, k) }

// Operator reports whether k is an operator task rather than a contact.
func (k Kind) Operator() bool { return k == LegalReferral || k == WriteOffTask }

// ActionSpec is one action of a round: its kind and, for a contact, the
// channels to use in order. With PreferCustomer the customer's preferred
// channel goes first when it is one of Channels. A call task uses phone
// only; the written kinds use written channels only; operator tasks use
// none.
type ActionSpec struct {
	Kind           Kind              `json:"kind"`
	Channels       []contact.Channel `json:"channels,omitempty"`
	PreferCustomer bool              `json:"prefer_customer,omitempty"`
}

// DefaultRules returns the embedded default rules (domain.md §5, §7, §8).
func DefaultRules() Rules {
	r, err := ParseRules(defaultRulesJSON)
	if err != nil {
		panic(fmt.Sprintf("collection: embedded default_rules.json: %v", err))
	}
	return r
}

// ParseRules decodes rules from JSON strictly (unknown fields are refused,
// so a misspelt parameter cannot be silently ignored) and validates them.
func ParseRules(b []byte) (Rules, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var r Rules
	if err := dec.Decode(&r); err != nil {
		return Rules{}, fmt.Errorf("decode collection rules: %w", err)
	}
	if dec.More() {
		return Rules{}, fmt.Errorf("decode collection rules: trailing data after the rules object")
	}
	if err := r.Validate(); err != nil {
		return Rules{}, err
	}
	return r, nil
}

// LoadRules reads and validates the rules file at path; an empty path
// returns DefaultRules.
func LoadRules(path string) (Rules, error) {
	if path == "" {
		return DefaultRules(), nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return Rules{}, fmt.Errorf("load collection rules %s: %w", path, err)
	}
	r, err := ParseRules(b)
	if err != nil {
		return Rules{}, fmt.Errorf("load collection rules %s: %w", path, err)
	}
	return r, nil
}

// Validate reports every field of r that is out of range, joined; each
// error wraps ErrInvalidRules and names the field.
func (r Rules) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: %s: %s", ErrInvalidRules, field, fmt.Sprintf(format, args...)))
	}
	if r.GraceDays < 0 {
		bad("grace_days", "must not be negative, got %d", r.GraceDays)
	}
	if r.CarryTolerance.IsNegative() {
		bad("carry_tolerance", "must not be negative, got %s", r.CarryTolerance)
	}
	if !r.Penalty.Multiplier.IsPositive() {
		bad("penalty.multiplier", "must be greater than 0, got %s", r.Penalty.Multiplier)
	}
	if r.Penalty.DayBasis < 1 {
		bad("penalty.day_basis", "must be at least 1, got %d", r.Penalty.DayBasis)
	}
	if r.Penalty.MaxAnnualRate.IsNegative() {
		bad("penalty.max_annual_rate", "must not be negative (0: no cap), got %s", r.Penalty.MaxAnnualRate)
	}
	if r.PayByDays < 1 {
		bad("pay_by_days", "must be at least 1, got %d", r.PayByDays)
	}
	r.validateLadder(bad)
	if r.Negotiate.EveryDays < 1 {
		bad("negotiate.every_days", "must be at least 1, got %d", r.Negotiate.EveryDays)
	}
	if len(r.Negotiate.Actions) == 0 {
		bad("negotiate.actions", "must not be empty")
	}
	for i, a := range r.Negotiate.Actions {
		field := fmt.Sprintf("negotiate.actions[%d]", i)
		validateAction(field, a, bad)
		if a.Kind.Operator() {
			bad(field+".kind", "must be a contact, got the operator task %s", a.Kind)
		}
	}
	if r.Promises.MaxDaysAhead < 0 {
		bad("promise.max_days_ahead", "must not be negative, got %d", r.Promises.MaxDaysAhead)
	}
	if r.Promises.MinShare.IsNegative() || r.Promises.MinShare.GreaterThan(decimal.NewFromInt(1)) {
		bad("promise.min_share", "must be a fraction from 0 to 1, got %s", r.Promises.MinShare)
	}
	if r.HardshipMaxDays < 0 {
		bad("hardship_max_days", "must not be negative, got %d", r.HardshipMaxDays)
	}
	return errors.Join(errs...)
}

// validateLadder checks the stages: M1 first and a contact stage, From
// strictly increasing, at most one operator task a stage, write_off only in
// the last stage.
func (r Rules) validateLadder(bad func(field, format string, args ...any)) {
	if len(r.Ladder) == 0 {
		bad("ladder", "must have at least the stage M1")
		return
	}
	prev := 0
	for i, s := range r.Ladder {
		field := fmt.Sprintf("ladder[%d]", i)
		k := rank(s.From)
		switch {
		case k < 1:
			bad(field+".from", "must be a bucket M1 to M7, got %q", s.From)
		case i == 0 && k != 1:
			bad(field+".from", "the first stage must be M1, got %s", s.From)
		case k <= prev:
			bad(field+".from", "must come after the previous stage, got %s", s.From)
		}
		if k > prev {
			prev = k
		}
		if s.EveryDays < 1 {
			bad(field+".every_days", "must be at least 1, got %d", s.EveryDays)
		}
		if len(s.Actions) == 0 {
			bad(field+".actions", "must not be empty")
		}
		ops := 0
		for j, a := range s.Actions {
			validateAction(fmt.Sprintf("%s.actions[%d]", field, j), a, bad)
			if a.Kind.Operator() {
				ops++
			}
			if a.Kind == WriteOffTask && i != len(r.Ladder)-1 {
				bad(fmt.Sprintf("%s.actions[%d].kind", field, j), "write_off must be in the last stage")
			}
		}
		if ops > 1 {
			bad(field+".actions", "at most one operator task a stage, got %d", ops)
		}
		if i == 0 && ops > 0 {
			bad(field+".actions", "the M1 stage must be contacts only")
		}
	}
}

// validateAction checks one action: a known kind and channels that fit it.
func validateAction(field string, a ActionSpec, bad func(field, format string, args ...any)) {
	if !a.Kind.Valid() {
		bad(field+".kind", "must be one of %v, got %q", Kinds, a.Kind)
		return
	}
	if a.Kind.Operator() {
		if len(a.Channels) > 0 || a.PreferCustomer {
			bad(field+".channels", "an operator task (%s) has no channel", a.Kind)
		}
		return
	}
	if len(a.Channels) == 0 {
		bad(field+".channels", "a contact (%s) needs at least one channel", a.Kind)
	}
	for i, ch := range a.Channels {
		f := fmt.Sprintf("%s.channels[%d]", field, i)
		switch {
		case !ch.Valid():
			bad(f, "unknown channel %q", ch)
		case slices.Contains(a.Channels[:i], ch):
			bad(f, "channel %s listed twice", ch)
		case a.Kind == CallTask && ch != contact.Phone:
			bad(f, "a call task uses phone only, got %s", ch)
		case a.Kind != CallTask && !ch.Written():
			bad(f, "a written contact (%s) cannot use %s", a.Kind, ch)
		}
	}
}

// rank orders the buckets: M0 is 0, M7 is 7; -1 for anything else.
func rank(b string) int {
	if len(b) == 2 && b[0] == 'M' && b[1] >= '0' && b[1] <= '7' {
		return int(b[1] - '0')
	}
	return -1
}

// bucketName is the bucket of rank k.
func bucketName(k int) string { return "M" + string(rune('0'+k)) }

// firstDay is the first number of days past due in the bucket of rank k
// (domain.md §7: M1 from 1, M2 from 31, ... M7 from 181).
func firstDay(k int) int {
	if k <= 0 {
		return 0
	}
	return 30*(k-1) + 1
}

// stageAt returns the index of the ladder stage that applies at bucket rank
// k (the last one whose From is at most k), or -1 for M0.
func (r Rules) stageAt(k int) int {
	idx := -1
	for i, s := range r.Ladder {
		if rank(s.From) <= k {
			idx = i
		}
	}
	return idx
}

// operatorKind returns the operator task of stage i, or "".
func (r Rules) operatorKind(i int) Kind {
	for _, a := range r.Ladder[i].Actions {
		if a.Kind.Operator() {
			return a.Kind
		}
	}
	return ""
}

// topContactStage returns the index of the last contact stage before the
// first operator stage: the highest stage escalation can reach.
func (r Rules) topContactStage() int {
	top := 0
	for i := range r.Ladder {
		if r.operatorKind(i) != "" {
			break
		}
		top = i
	}
	return top
}

// stageOf returns the index of the stage whose From is from, or -1.
func (r Rules) stageOf(from string) int {
	for i, s := range r.Ladder {
		if s.From == from {
			return i
		}
	}
	return -1
}
