// Package clock is fenqi's business clock: the mapping between the real
// instants at which a plan's workflow runs and the business instants its
// calendar (due dates, grace periods, contact windows) is written in.
//
// Production runs on the real calendar: a Clock with DaySeconds 0 maps every
// instant to itself. Demos and end-to-end tests run a compressed calendar:
// with DaySeconds 0.05 (the --day-seconds flag) one business day lasts 0.05
// real seconds, so a 360-month plan passes in about nine real minutes.
// Business instants are Origin + (real - Origin) x 86400 / DaySeconds.
//
// Everything here is deterministic and safe to call from Temporal workflow
// code: no reading of the wall clock, no randomness, no I/O. The arithmetic
// is exact integer arithmetic (math/big), so the same inputs give the same
// instants on every worker and architecture. The one exception is LoadZone,
// which reads the time zone database and is meant for worker start-up,
// activities and tests, never for workflow code.
package clock
