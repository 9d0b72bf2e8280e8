// Package searchattrs defines fenqi's custom Temporal search attributes.
// They carry no personal data: operators filter plans in the Web UI with
// them (for example `Bucket = "M2"` or `PlanState = "active"`).
package searchattrs

import (
	"time"

	"go.temporal.io/sdk/temporal"
)

var (
	// PlanState is the plan's lifecycle state (review, active, closed, ...),
	// or Onboarding while the application waits on the assessment or the
	// customer.
	PlanState = temporal.NewSearchAttributeKeyKeyword("PlanState")
	// NextDueDate is the due date of the next unpaid instalment.
	NextDueDate = temporal.NewSearchAttributeKeyTime("NextDueDate")
	// DaysPastDue is the number of days the oldest unpaid instalment is overdue.
	DaysPastDue = temporal.NewSearchAttributeKeyInt64("DaysPastDue")
	// Bucket is the delinquency bucket, M0 (current) to M7.
	Bucket = temporal.NewSearchAttributeKeyKeyword("Bucket")
	// CustomerId is the customer's opaque id (a uuid, never a name or number).
	CustomerId = temporal.NewSearchAttributeKeyKeyword("CustomerId")
)

// Onboarding is PlanState's value while an application is assessed,
// offered or waiting for the signature: the stages that wait on the
// customer share one value, since each change of a search attribute is a
// billable action and a visibility write. The exact stage is in the plan's
// status (the Web UI's status query, the API, the customer's page) and in
// the fenqi_plans metric. A manual review, which waits on an operator,
// has its own value (review). Plans started before it show assessing,
// offered or signing.
const Onboarding = "onboarding"

// All lists every custom search attribute, for registering them on a server.
func All() temporal.SearchAttributes {
	return temporal.NewSearchAttributes(
		PlanState.ValueSet(""),
		NextDueDate.ValueSet(time.Unix(0, 0)),
		DaysPastDue.ValueSet(0),
		Bucket.ValueSet(""),
		CustomerId.ValueSet(""),
	)
}
