// Package collection is the overdue and collection logic of a plan
// (domain.md §5, §7 and §8) as pure functions: what is owed and since when,
// penalty interest computed when needed, and the collection ladder as a
// state machine that the plan workflow steps through.
//
// The package keeps no state, does no I/O and never reads the wall clock:
// every function takes the instant it works at, and its outputs do not
// depend on map order, so it may run inside Temporal workflow code. State
// is plain JSON and survives Continue-As-New.
//
// The caller's loop is:
//
//	owed, _ := rules.Owed(rows, today, annualRate)  // what is owed now
//	a, _ := rules.Next(state, now, inputs)          // what to do
//	if a.IsRound() {                                // queue a.Steps, each at its At
//		state, _ = rules.Record(state, a)
//	} else {                                        // sleep until a.At (zero: until an event)
//	}
//
// and on events: Paid when the arrears are cleared, Promise and PromiseDue
// for promises to pay, Decide for an operator's decision on a legal
// referral, WriteOff for the write-off decision, Pause for a hardship
// extension. Status answers a query.
//
// Every contact is planned by contact.Rules (window, caps, no call after a
// conversation); legal referral and write-off are operator tasks, not
// contacts.
package collection
