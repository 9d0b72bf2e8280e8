package contact

import (
	"fmt"
	"slices"
	"time"
)

// Request is one contact to be made.
type Request struct {
	// Earliest is the instant the contact is due; it never goes out before.
	Earliest time.Time `json:"earliest"`
	// Preferred is the customer's preferred channel, tried first; empty for
	// no preference.
	Preferred Channel `json:"preferred,omitempty"`
	// Fallback is the order the other channels are tried in; empty means
	// the rules' Fallback. To use only Preferred, set Fallback to it alone.
	Fallback []Channel `json:"fallback,omitempty"`
	// Purpose says what the contact is for ("reminder D-3 of instalment 4");
	// it names the request in errors.
	Purpose string `json:"purpose"`
	// Addresses says which channels the customer can be reached on.
	Addresses Addresses `json:"addresses"`
}

// Decision is when and how a requested contact goes out.
type Decision struct {
	// At is the earliest allowed instant, never before the request's
	// Earliest.
	At time.Time `json:"at"`
	// Channel is the first channel of the preference order allowed at At.
	Channel Channel `json:"channel"`
	// Deferred reports whether At is later than Earliest.
	Deferred bool `json:"deferred"`
	// Reason says in words why At is later than Earliest ("outside the
	// 08:00-21:00 window in Asia/Shanghai: sent when it opens", "the daily
	// cap of 2 messages is reached"); empty when the contact is not
	// deferred.
	Reason string `json:"reason,omitempty"`
	// ChannelReason says why each channel preferred to Channel was not used
	// at At ("push: no address; sms: the daily cap of 2 messages is
	// reached"); empty when Channel is the first choice.
	ChannelReason string `json:"channel_reason,omitempty"`
}

// order returns the channels of req in preference order, Preferred first,
// without duplicates, whether or not the customer has an address for them.
func (r Rules) order(req Request) ([]Channel, error) {
	var out []Channel
	if req.Preferred != "" {
		if !req.Preferred.Valid() {
			return nil, fmt.Errorf("%w: preferred channel %q: unknown channel", ErrInvalidInput, req.Preferred)
		}
		out = append(out, req.Preferred)
	}
	fallback, name := req.Fallback, "request fallback"
	if len(fallback) == 0 {
		fallback, name = r.Fallback, "rules fallback"
	}
	for i, ch := range fallback {
		if !ch.Valid() {
			return nil, fmt.Errorf("%w: %s[%d] %q: unknown channel", ErrInvalidInput, name, i, ch)
		}
		if !slices.Contains(out, ch) {
			out = append(out, ch)
		}
	}
	return out, nil
}

// usable keeps the channels of order the customer has an address for.
func usable(order []Channel, a Addresses) []Channel {
	var out []Channel
	for _, ch := range order {
		if a.Has(ch) {
			out = append(out, ch)
		}
	}
	return out
}
