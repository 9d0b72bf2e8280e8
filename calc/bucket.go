package calc

// Bucket is the delinquency bucket for a number of days past due
// (domain.md §7): M0 current, M1 1-30, M2 31-60, ... M7 181 and more.
func Bucket(daysPastDue int) string {
	switch {
	case daysPastDue <= 0:
		return "M0"
	case daysPastDue > 180:
		return "M7"
	}
	return "M" + string(rune('0'+(daysPastDue-1)/30+1))
}
