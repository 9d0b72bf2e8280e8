// Package underwriting is fenqi's credit assessment and offer engine
// (domain.md §2): it scores an application against a Policy, decides
// approve / review / decline with reasons the customer can read, sets the
// risk tier and the credit limit, and builds the offers (and the answers to
// counter-offers) with every figure computed by calc.
//
// The package is pure: no Temporal, no database, no clock and no I/O except
// LoadPolicy reading a policy file. The same policy and application always
// give the same assessment and the same offers.
package underwriting
