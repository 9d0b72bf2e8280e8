package plan

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/calc"
)

// Channel is a contact channel.
type Channel string

// The contact channels.
const (
	ChannelSMS   Channel = "sms"
	ChannelEmail Channel = "email"
	ChannelPush  Channel = "push"
	ChannelPhone Channel = "phone"
)

// Customer is the applicant's profile (domain.md §2). Name, phone, email
// and ID number are personal data: they are kept out of logs and search
// attributes.
type Customer struct {
	// Ref is the customer's id in the lender's systems (required).
	Ref        string `json:"ref"`
	Name       string `json:"name"`
	IDNumber   string `json:"id_number,omitempty"`
	Age        int    `json:"age"`
	Occupation string `json:"occupation"`
	// MonthlyIncome and the amounts below are in the plan's currency.
	MonthlyIncome decimal.Decimal `json:"monthly_income"`
	// MonthlyDebtPayments is what existing debts cost each month.
	MonthlyDebtPayments decimal.Decimal `json:"monthly_debt_payments"`
	Assets              decimal.Decimal `json:"assets"`
	Liabilities         decimal.Decimal `json:"liabilities"`
	MonthlySpend        decimal.Decimal `json:"monthly_spend"`
	CreditHistory       CreditHistory   `json:"credit_history"`
	Phone               string          `json:"phone,omitempty"`
	Email               string          `json:"email,omitempty"`
	PushID              string          `json:"push_id,omitempty"`
	PreferredChannel    Channel         `json:"preferred_channel"`
	// TimeZone is an IANA name; default Asia/Shanghai.
	TimeZone string `json:"time_zone,omitempty"`
}

// CreditHistory summarises the applicant's repayment record.
type CreditHistory struct {
	OnTimePayments int `json:"on_time_payments"`
	LatePayments   int `json:"late_payments"`
	Defaults       int `json:"defaults"`
}

// Preferences shape the offers (domain.md §2).
type Preferences struct {
	// Frequency preferred: monthly or quarterly; empty means either.
	Frequency calc.Frequency `json:"frequency,omitempty"`
	// Term: "shorter", "longer" or empty.
	Term string `json:"term,omitempty"`
	// Priority: "lowest_cost", "lowest_instalment" or empty.
	Priority string `json:"priority,omitempty"`
}

// Origin says where the application came from.
type Origin struct {
	// Kind is "own" (the lender's platform) or "partner".
	Kind string `json:"kind"`
	// Partner names the partner platform when Kind is "partner".
	Partner string `json:"partner,omitempty"`
	// PartnerFeeRate is the partner's fee as a fraction of the amount,
	// disclosed in the agreement (paid by the lender, not the customer).
	PartnerFeeRate decimal.Decimal `json:"partner_fee_rate"`
	// PartnerFeePolicy describes who bears the partner's fee, disclosed.
	PartnerFeePolicy string `json:"partner_fee_policy,omitempty"`
}

// Settings are the per-plan limits and timeouts; zero values take the
// defaults (DefaultSettings).
type Settings struct {
	// ReviewTimeout is how long a manual review may wait for an operator.
	ReviewTimeout time.Duration `json:"review_timeout,omitempty"`
	// OfferTTL is how long an offer set stays open.
	OfferTTL time.Duration `json:"offer_ttl,omitempty"`
	// SignTTL is how long an agreement waits for a signature.
	SignTTL time.Duration `json:"sign_ttl,omitempty"`
	// MaxCounterRounds bounds the counter-offer rounds.
	MaxCounterRounds int `json:"max_counter_rounds,omitempty"`
	// DaySeconds runs the plan on a compressed calendar: one business day
	// lasts this many real seconds (0: the real calendar). For demos and
	// end-to-end tests; every duration and due date of the plan follows it.
	DaySeconds float64 `json:"day_seconds,omitempty"`
	// Reminders are the reminders before each due date, each planned at its
	// offset and then moved by the contact rules (a time at night goes out
	// when the window opens); nil or empty means DefaultReminders (D-3 at
	// 08:00). A pointer keeps Settings comparable; WithDefaults leaves it
	// nil so that the fingerprints of applications do not change.
	Reminders *Reminders `json:"reminders,omitempty"`
}

// ReminderOffset is one reminder before a due date: Days before the due
// date at Hour:00, local time in the customer's time zone.
type ReminderOffset struct {
	Days int `json:"days"`
	Hour int `json:"hour"`
}

// String is "D-3 08:00".
func (o ReminderOffset) String() string { return fmt.Sprintf("D-%d %02d:00", o.Days, o.Hour) }

// Reminders are the reminder offsets of a plan.
type Reminders []ReminderOffset

// Bounds of Settings.Reminders.
const (
	MaxReminders    = 5
	MaxReminderDays = 60
)

// DefaultReminders is the default reminder: D-3 at 08:00 (domain.md §8;
// more offsets, such as D-7 or D-1, are a setting: too many notices alarm
// customers).
func DefaultReminders() Reminders { return Reminders{{Days: 3, Hour: 8}} }

// ReminderOffsets returns the plan's reminder offsets: s.Reminders, or
// DefaultReminders when there are none.
func (s Settings) ReminderOffsets() Reminders {
	if s.Reminders == nil || len(*s.Reminders) == 0 {
		return DefaultReminders()
	}
	return *s.Reminders
}

// Validate checks the offsets: at most MaxReminders, each 0 to
// MaxReminderDays days before the due date at an hour 0 to 23, no two
// alike.
func (r Reminders) Validate() error {
	if len(r) > MaxReminders {
		return invalid("settings.reminders", "at most %d reminders, got %d", MaxReminders, len(r))
	}
	seen := map[ReminderOffset]bool{}
	for i, o := range r {
		switch {
		case o.Days < 0 || o.Days > MaxReminderDays:
			return invalid(fmt.Sprintf("settings.reminders[%d].days", i), "must be between 0 and %d, got %d", MaxReminderDays, o.Days)
		case o.Hour < 0 || o.Hour > 23:
			return invalid(fmt.Sprintf("settings.reminders[%d].hour", i), "must be between 0 and 23, got %d", o.Hour)
		case seen[o]:
			return invalid(fmt.Sprintf("settings.reminders[%d]", i), "%s is listed twice", o)
		}
		seen[o] = true
	}
	return nil
}

// DefaultSettings are the product's defaults: 48 hours for a review, offers
// open 7 days, an agreement unsigned for 7 days expires, 3 counter rounds.
func DefaultSettings() Settings {
	return Settings{ReviewTimeout: 48 * time.Hour, OfferTTL: 7 * 24 * time.Hour, SignTTL: 7 * 24 * time.Hour, MaxCounterRounds: 3}
}

// WithDefaults fills the zero fields of s from DefaultSettings.
func (s Settings) WithDefaults() Settings {
	d := DefaultSettings()
	if s.ReviewTimeout <= 0 {
		s.ReviewTimeout = d.ReviewTimeout
	}
	if s.OfferTTL <= 0 {
		s.OfferTTL = d.OfferTTL
	}
	if s.SignTTL <= 0 {
		s.SignTTL = d.SignTTL
	}
	if s.MaxCounterRounds <= 0 {
		s.MaxCounterRounds = d.MaxCounterRounds
	}
	return s
}

// Application is what a customer applies with: the input of the plan
// workflow.
type Application struct {
	// RequestID identifies the application: applying twice with the same
	// request id returns the same plan.
	RequestID string   `json:"request_id"`
	Customer  Customer `json:"customer"`
	// Amount requested, in Currency.
	Amount   decimal.Decimal `json:"amount"`
	Currency string          `json:"currency,omitempty"`
	// Terms requested (number of instalments); 0 lets the offers choose.
	Terms int `json:"terms,omitempty"`
	// Frequency requested; empty lets the offers choose.
	Frequency   calc.Frequency `json:"frequency,omitempty"`
	Preferences Preferences    `json:"preferences"`
	Origin      Origin         `json:"origin"`
	Settings    Settings       `json:"settings"`
}

// Bounds on what an application may ask for.
var (
	MaxAmount        = decimal.NewFromInt(1_000_000)
	maxTextLen       = 200
	maxRequestIDLen  = 128
	supportedOrigins = map[string]bool{"own": true, "partner": true}
)

// ValidationError says which field of a message is wrong and why.
type ValidationError struct {
	Field  string
	Reason string
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Reason }

func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// IsValidation reports whether err is a *ValidationError.
func IsValidation(err error) bool {
	var v *ValidationError
	return errors.As(err, &v)
}

// ValidateRequestID checks a message's request id.
func ValidateRequestID(id string) error {
	switch {
	case strings.TrimSpace(id) == "":
		return invalid("request_id", "is required")
	case len(id) > maxRequestIDLen:
		return invalid("request_id", "is longer than %d characters", maxRequestIDLen)
	case !utf8.ValidString(id):
		return invalid("request_id", "is not valid UTF-8")
	case strings.ContainsRune(id, 0):
		return invalid("request_id", "must not contain a NUL character")
	}
	return nil
}

func validateText(field, s string, required bool) error {
	switch {
	case required && strings.TrimSpace(s) == "":
		return invalid(field, "is required")
	case len(s) > maxTextLen:
		return invalid(field, "is longer than %d characters", maxTextLen)
	case !utf8.ValidString(s):
		return invalid(field, "is not valid UTF-8")
	case strings.ContainsRune(s, 0):
		// PostgreSQL refuses NUL in text: the plan would retry storing
		// it for ever.
		return invalid(field, "must not contain a NUL character")
	}
	return nil
}

func validateMoney(field string, d decimal.Decimal, positive bool) error {
	switch {
	case positive && !d.IsPositive():
		return invalid(field, "must be greater than 0, got %s", d)
	case d.IsNegative():
		return invalid(field, "must not be negative, got %s", d)
	case d.Exponent() < -2 && !d.Equal(d.Round(2)):
		return invalid(field, "must have at most 2 decimals, got %s", d)
	}
	return nil
}

// Validate checks an application before a plan is started for it.
func (a Application) Validate() error {
	if err := ValidateRequestID(a.RequestID); err != nil {
		return err
	}
	c := a.Customer
	for _, f := range []struct {
		name     string
		value    string
		required bool
	}{
		{"customer.ref", c.Ref, true}, {"customer.name", c.Name, true}, {"customer.occupation", c.Occupation, false},
		{"customer.phone", c.Phone, false}, {"customer.email", c.Email, false}, {"customer.push_id", c.PushID, false},
		{"customer.id_number", c.IDNumber, false},
	} {
		if err := validateText(f.name, f.value, f.required); err != nil {
			return err
		}
	}
	if c.Age < 18 || c.Age > 100 {
		return invalid("customer.age", "must be between 18 and 100, got %d", c.Age)
	}
	for _, m := range []struct {
		name string
		v    decimal.Decimal
	}{
		{"customer.monthly_income", c.MonthlyIncome}, {"customer.monthly_debt_payments", c.MonthlyDebtPayments},
		{"customer.assets", c.Assets}, {"customer.liabilities", c.Liabilities}, {"customer.monthly_spend", c.MonthlySpend},
	} {
		if err := validateMoney(m.name, m.v, false); err != nil {
			return err
		}
	}
	if h := c.CreditHistory; h.OnTimePayments < 0 || h.LatePayments < 0 || h.Defaults < 0 {
		return invalid("customer.credit_history", "counts must not be negative")
	}
	switch c.PreferredChannel {
	case "", ChannelSMS, ChannelEmail, ChannelPush, ChannelPhone:
	default:
		return invalid("customer.preferred_channel", "must be sms, email, push or phone, got %q", c.PreferredChannel)
	}
	if c.TimeZone != "" {
		if _, err := time.LoadLocation(c.TimeZone); err != nil {
			return invalid("customer.time_zone", "unknown time zone %q", c.TimeZone)
		}
	}
	if err := validateMoney("amount", a.Amount, true); err != nil {
		return err
	}
	if a.Amount.GreaterThan(MaxAmount) {
		return invalid("amount", "must be at most %s, got %s", MaxAmount, a.Amount)
	}
	if a.Currency != "" && a.Currency != "CNY" {
		return invalid("currency", "only CNY is offered, got %q", a.Currency)
	}
	if a.Terms < 0 || a.Terms > calc.MaxTerms {
		return invalid("terms", "must be between 1 and %d, got %d", calc.MaxTerms, a.Terms)
	}
	if a.Frequency != "" {
		if err := a.Frequency.Validate(); err != nil {
			return invalid("frequency", "%v", err)
		}
	}
	if f := a.Preferences.Frequency; f != "" {
		if err := f.Validate(); err != nil {
			return invalid("preferences.frequency", "%v", err)
		}
	}
	switch a.Preferences.Term {
	case "", "shorter", "longer":
	default:
		return invalid("preferences.term", "must be shorter or longer, got %q", a.Preferences.Term)
	}
	switch a.Preferences.Priority {
	case "", "lowest_cost", "lowest_instalment":
	default:
		return invalid("preferences.priority", "must be lowest_cost or lowest_instalment, got %q", a.Preferences.Priority)
	}
	o := a.Origin
	if o.Kind == "" {
		o.Kind = "own"
	}
	if !supportedOrigins[o.Kind] {
		return invalid("origin.kind", "must be own or partner, got %q", o.Kind)
	}
	if o.Kind == "partner" {
		if err := validateText("origin.partner", o.Partner, true); err != nil {
			return err
		}
	}
	if o.PartnerFeeRate.IsNegative() || o.PartnerFeeRate.GreaterThan(decimal.NewFromFloat(0.2)) {
		return invalid("origin.partner_fee_rate", "must be between 0 and 0.2, got %s", o.PartnerFeeRate)
	}
	if err := validateText("origin.partner_fee_policy", o.PartnerFeePolicy, false); err != nil {
		return err
	}
	s := a.Settings
	if s.ReviewTimeout < 0 || s.OfferTTL < 0 || s.SignTTL < 0 || s.MaxCounterRounds < 0 || s.MaxCounterRounds > 10 {
		return invalid("settings", "timeouts must not be negative and max_counter_rounds at most 10")
	}
	if s.DaySeconds != 0 && !(s.DaySeconds >= 0.001 && s.DaySeconds <= 86400) { // NaN too
		return invalid("settings.day_seconds", "must be 0 (the real calendar) or between 0.001 and 86400, got %g", s.DaySeconds)
	}
	if s.Reminders != nil {
		if err := s.Reminders.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// Fingerprint identifies the application's content (after Normalized), so
// that a request id reused for a different application is refused.
func (a Application) Fingerprint() string {
	b, err := json.Marshal(a.Normalized())
	if err != nil {
		return hashOf("application", a.RequestID)
	}
	return hashOf("application", string(b))
}

// Normalized returns a with defaults applied: currency CNY, origin own,
// time zone Asia/Shanghai, preferred channel SMS, settings defaults.
func (a Application) Normalized() Application {
	if a.Currency == "" {
		a.Currency = "CNY"
	}
	if a.Origin.Kind == "" {
		a.Origin.Kind = "own"
	}
	if a.Customer.TimeZone == "" {
		a.Customer.TimeZone = "Asia/Shanghai"
	}
	if a.Customer.PreferredChannel == "" {
		a.Customer.PreferredChannel = ChannelSMS
	}
	a.Settings = a.Settings.WithDefaults()
	return a
}

// MemoSummary is the short summary of an application kept in its
// workflow's memo for operators in the Web UI: amount, terms, frequency and
// channel, nothing personal (no name, contact, id or income).
func (a Application) MemoSummary() string {
	a = a.Normalized()
	terms := "terms by offer"
	if a.Terms > 0 {
		terms = fmt.Sprintf("%d instalments", a.Terms)
	}
	freq := string(a.Frequency)
	if freq == "" {
		freq = "frequency by offer"
	}
	via := a.Origin.Kind
	if a.Origin.Partner != "" {
		via += " " + a.Origin.Partner
	}
	return fmt.Sprintf("%s %s, %s, %s, via %s", a.Currency, calc.FormatMoney(a.Amount), terms, freq, via)
}
