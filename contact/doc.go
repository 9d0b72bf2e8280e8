// Package contact enforces fenqi's contact rules (domain.md §8) in one place
// for every outgoing contact: reminders today, collection later.
//
// A contact may only go out inside the daily window (08:00-21:00 in the
// customer's time zone by default); calls are capped per local day and per
// rolling run of local days, and no call is placed in the days after a
// conversation (US Regulation F, the strictest); written messages
// (sms, email, push, letter) are capped too. Rules.Plan picks the earliest
// instant and the channel, in the customer's order of preference, at which
// a contact is allowed; Rules.Check says whether one given contact is
// allowed and, if not, which rule forbids it; Rules.NextAllowed answers
// status queries.
//
// Every instant is a business instant (see package clock) and days are
// calendar days in the customer's time zone. The package is deterministic
// and safe to call from Temporal workflow code: it never reads the wall
// clock, keeps no state, does no I/O and its results do not depend on map
// order; the caller loads the *time.Location outside workflow code (see
// clock.LoadZone).
package contact
