// Package calc is the pure calculation core of fenqi: civil dates, repayment
// schedules for every product method, the annualised rate by IRR, the rate
// cap, penalty interest, the payment allocation waterfall, early settlement
// quotes, re-amortisation and payment holidays.
//
// The package does no I/O and keeps no state. Money is decimal.Decimal with
// two places, rounded half-up (away from zero) per row; the last row of a
// schedule absorbs the rounding residual so that the principal column sums
// exactly to the amount amortised and the balance ends at 0.00.
//
// Rate units: contract inputs (Terms.AnnualRate, Terms.MonthlyFeeRate,
// PenaltyRule.MaxAnnualRate, SettlementTerms.Percent) are fractions
// (0.24 means 24%); computed annualised rates and the RateCap thresholds are
// percentages (24.0001 means 24.0001%).
package calc
