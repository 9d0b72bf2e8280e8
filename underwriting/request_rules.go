package underwriting

import (
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/calc"
)

// RequestRules are the product's rules for customer requests on an active
// plan (domain.md §4), part of the policy file under "requests":
//
//	quote_valid_hours            a quote lapses this many business hours
//	                             after it is made (default 24).
//	settlement                   {policy, percent}: what cancelling or
//	                             repaying early costs (calc.SettlementTerms:
//	                             current-period, all-remaining or
//	                             percentage with percent a fraction).
//	cancel_max_bucket            the worst days-past-due bucket in which a
//	                             cancellation is allowed ("M1": not in M2
//	                             or worse).
//	max_income_share             ability to pay: a new regular instalment
//	                             may take at most this share of the monthly
//	                             income.
//	restructure_max_terms        the most instalments a restructured plan
//	                             may have left.
//	restructures_per_year        restructures allowed in any 12 months.
//	restructure_approval_bucket  from this bucket on, a restructure needs
//	                             an operator's approval.
//	restructure_approval_terms   lengthening the plan by more than this
//	                             many instalments needs an operator.
//	holiday_max_periods          instalments a plan may pause in all.
//	holiday_interest             capitalise or waive the interest of a
//	                             pause (calc.HolidayPolicy).
//	complaint_pause_days         an open complaint pauses collection
//	                             contact for at most this many days.
//	arrears_max_instalments      the most parts an arrears plan may split
//	                             the arrears into.
//	arrears_max_bucket           an arrears plan is offered up to this
//	                             bucket.
//	arrears_approval_bucket      from this bucket on, an arrears plan
//	                             needs an operator's approval.
type RequestRules struct {
	QuoteValidHours           int                `json:"quote_valid_hours"`
	Settlement                SettlementRule     `json:"settlement"`
	CancelMaxBucket           string             `json:"cancel_max_bucket"`
	MaxIncomeShare            decimal.Decimal    `json:"max_income_share"`
	RestructureMaxTerms       int                `json:"restructure_max_terms"`
	RestructuresPerYear       int                `json:"restructures_per_year"`
	RestructureApprovalBucket string             `json:"restructure_approval_bucket"`
	RestructureApprovalTerms  int                `json:"restructure_approval_terms"`
	HolidayMaxPeriods         int                `json:"holiday_max_periods"`
	HolidayInterest           calc.HolidayPolicy `json:"holiday_interest"`
	ComplaintPauseDays        int                `json:"complaint_pause_days"`
	ArrearsMaxInstalments     int                `json:"arrears_max_instalments"`
	ArrearsMaxBucket          string             `json:"arrears_max_bucket"`
	ArrearsApprovalBucket     string             `json:"arrears_approval_bucket"`
}

// SettlementRule is calc.SettlementTerms as policy data.
type SettlementRule struct {
	Policy  calc.SettlementPolicy `json:"policy"`
	Percent decimal.Decimal       `json:"percent"`
}

// Terms returns the rule as the calculator's settlement terms.
func (s SettlementRule) Terms() calc.SettlementTerms {
	return calc.SettlementTerms{Policy: s.Policy, Percent: s.Percent}
}

// BucketRank orders the days-past-due buckets: M0 is 0, M7 is 7; -1 for
// anything else.
func BucketRank(b string) int {
	if len(b) == 2 && b[0] == 'M' && b[1] >= '0' && b[1] <= '7' {
		return int(b[1] - '0')
	}
	return -1
}

func (r RequestRules) validate(bad func(field, format string, args ...any)) {
	if r.QuoteValidHours < 1 {
		bad("requests.quote_valid_hours", "must be at least 1, got %d", r.QuoteValidHours)
	}
	if _, err := calc.ParseSettlementPolicy(string(r.Settlement.Policy)); err != nil {
		bad("requests.settlement.policy", "%v", err)
	}
	if r.Settlement.Percent.IsNegative() || r.Settlement.Percent.GreaterThan(decimal.NewFromInt(1)) ||
		(r.Settlement.Policy != calc.SettlePercentage && !r.Settlement.Percent.IsZero()) {
		bad("requests.settlement.percent", "must be a fraction from 0 to 1, and 0 unless the policy is %s, got %s", calc.SettlePercentage, r.Settlement.Percent)
	}
	for field, b := range map[string]string{"cancel_max_bucket": r.CancelMaxBucket, "restructure_approval_bucket": r.RestructureApprovalBucket,
		"arrears_max_bucket": r.ArrearsMaxBucket, "arrears_approval_bucket": r.ArrearsApprovalBucket} {
		if BucketRank(b) < 0 {
			bad("requests."+field, "must be a bucket M0 to M7, got %q", b)
		}
	}
	if !r.MaxIncomeShare.IsPositive() || r.MaxIncomeShare.GreaterThan(decimal.NewFromInt(1)) {
		bad("requests.max_income_share", "must be a fraction above 0 and at most 1, got %s", r.MaxIncomeShare)
	}
	if r.RestructureMaxTerms < 1 || r.RestructureMaxTerms > calc.MaxTerms {
		bad("requests.restructure_max_terms", "must be between 1 and %d, got %d", calc.MaxTerms, r.RestructureMaxTerms)
	}
	if r.RestructuresPerYear < 0 || r.RestructureApprovalTerms < 0 || r.HolidayMaxPeriods < 0 {
		bad("requests", "restructures_per_year, restructure_approval_terms and holiday_max_periods must not be negative")
	}
	if r.HolidayInterest != calc.HolidayCapitalise && r.HolidayInterest != calc.HolidayWaive {
		bad("requests.holiday_interest", "must be %s or %s, got %q", calc.HolidayCapitalise, calc.HolidayWaive, r.HolidayInterest)
	}
	if r.ArrearsMaxInstalments < 2 || r.ArrearsMaxInstalments > calc.MaxTerms {
		bad("requests.arrears_max_instalments", "must be between 2 and %d, got %d", calc.MaxTerms, r.ArrearsMaxInstalments)
	}
	if r.ComplaintPauseDays < 1 {
		bad("requests.complaint_pause_days", "must be at least 1, got %d", r.ComplaintPauseDays)
	}
}

// String names the rules briefly, for logs.
func (r RequestRules) String() string {
	return fmt.Sprintf("settlement %s, cancel up to %s, restructure up to %d terms", r.Settlement.Policy, r.CancelMaxBucket, r.RestructureMaxTerms)
}
