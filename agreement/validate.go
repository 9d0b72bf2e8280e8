package agreement

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/fenqi/fenqi/calc"
)

// normalise applies the documented defaults and checks the input.
func normalise(in Input) (Input, error) {
	if err := oneLine("plan id", in.PlanID); err != nil {
		return in, err
	}
	if err := oneLine("customer name", in.CustomerName); err != nil {
		return in, err
	}
	if in.Version < 1 {
		return in, fmt.Errorf("version must be at least 1, got %d", in.Version)
	}
	if in.Currency == "" {
		in.Currency = "CNY"
	}
	if err := oneLine("currency", in.Currency); err != nil {
		return in, err
	}
	if in.GraceDays < 0 {
		return in, fmt.Errorf("grace days must not be negative, got %d", in.GraceDays)
	}
	if err := checkOffer(in); err != nil {
		return in, err
	}
	if in.Penalty == (calc.PenaltyRule{}) {
		in.Penalty = calc.DefaultPenaltyRule()
	}
	switch p := in.Penalty; {
	case !p.Multiplier.IsPositive():
		return in, fmt.Errorf("penalty multiplier must be greater than 0, got %s", p.Multiplier)
	case p.DayBasis < 1:
		return in, fmt.Errorf("penalty day basis must be at least 1, got %d", p.DayBasis)
	case p.MaxAnnualRate.IsNegative():
		return in, fmt.Errorf("penalty maximum annual rate must not be negative, got %s", p.MaxAnnualRate)
	}
	if in.PenaltyBaseRate.IsNegative() {
		return in, fmt.Errorf("penalty base rate must not be negative, got %s", in.PenaltyBaseRate)
	}
	if in.Settlement.Policy == "" {
		in.Settlement.Policy = calc.SettleCurrentPeriod
	}
	if _, err := calc.ParseSettlementPolicy(string(in.Settlement.Policy)); err != nil {
		return in, fmt.Errorf("settlement: %w", err)
	}
	switch pct := in.Settlement.Percent; {
	case in.Settlement.Policy == calc.SettlePercentage && !pct.IsPositive():
		return in, fmt.Errorf("settlement percent must be greater than 0 for the percentage policy, got %s", pct)
	case in.Settlement.Policy != calc.SettlePercentage && !pct.IsZero():
		return in, fmt.Errorf("settlement percent must be zero for the %s policy, got %s", in.Settlement.Policy, pct)
	}
	if in.Origin.Kind == "" {
		in.Origin.Kind = "own"
	}
	switch in.Origin.Kind {
	case "own":
	case "partner":
		if err := oneLine("origin partner", in.Origin.Partner); err != nil {
			return in, err
		}
	default:
		return in, fmt.Errorf("origin kind must be own or partner, got %q", in.Origin.Kind)
	}
	if in.Origin.PartnerFeeRate.IsNegative() {
		return in, fmt.Errorf("origin partner fee rate must not be negative, got %s", in.Origin.PartnerFeeRate)
	}
	if in.Origin.PartnerFeePolicy != "" {
		if err := oneLine("origin partner fee policy", in.Origin.PartnerFeePolicy); err != nil {
			return in, err
		}
	}
	return in, nil
}

// checkOffer checks the offer and that the schedule is the offer's.
func checkOffer(in Input) error {
	o, s := in.Offer, in.Schedule
	if err := o.Method.Validate(); err != nil {
		return fmt.Errorf("offer method: %w", err)
	}
	if err := o.Frequency.Validate(); err != nil {
		return fmt.Errorf("offer frequency: %w", err)
	}
	if !o.Amount.IsPositive() {
		return fmt.Errorf("offer amount must be greater than 0, got %s", o.Amount)
	}
	if o.Terms < 1 {
		return fmt.Errorf("offer terms must be at least 1, got %d", o.Terms)
	}
	if len(s.Rows) != o.Terms {
		return fmt.Errorf("schedule has %d rows for an offer of %d instalments", len(s.Rows), o.Terms)
	}
	if !s.TotalPrincipal.Equal(o.Amount) {
		return fmt.Errorf("schedule principal %s is not the offer amount %s", calc.FormatMoney(s.TotalPrincipal), calc.FormatMoney(o.Amount))
	}
	for i, r := range s.Rows {
		if r.DueDate.IsZero() {
			return fmt.Errorf("schedule row %d has no due date", i+1)
		}
	}
	// The figures disclosed with the offer must be the agreement's. An
	// offer without disclosed figures (zero total payment) is not checked.
	if !o.TotalPayment.IsZero() {
		for _, c := range []struct {
			name          string
			offer, agreed string
		}{
			{"instalment", calc.FormatMoney(o.Instalment), calc.FormatMoney(s.Rows[0].Payment)},
			{"total payment", calc.FormatMoney(o.TotalPayment), calc.FormatMoney(s.TotalPayment)},
			{"total cost", calc.FormatMoney(o.TotalCost), calc.FormatMoney(s.TotalInterest.Add(s.TotalFee))},
			{"nominal annualised rate", o.APRNominal.StringFixed(calc.RatePlaces), s.APRNominal.StringFixed(calc.RatePlaces)},
			{"effective annualised rate", o.APREffective.StringFixed(calc.RatePlaces), s.APREffective.StringFixed(calc.RatePlaces)},
		} {
			if c.offer != c.agreed {
				return fmt.Errorf("offer %s %s differs from the schedule's %s", c.name, c.offer, c.agreed)
			}
		}
	}
	return nil
}

// oneLine requires a non-empty value without control characters, so that
// no input can break the document's layout.
func oneLine(field, v string) error {
	if strings.TrimSpace(v) == "" {
		return fmt.Errorf("%s is required", field)
	}
	if strings.IndexFunc(v, unicode.IsControl) >= 0 {
		return fmt.Errorf("%s must not contain control characters (line breaks, tabs), got %q", field, v)
	}
	return nil
}
