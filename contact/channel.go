package contact

import "time"

// Channel is a way of reaching the customer.
type Channel string

// The channels.
const (
	SMS    Channel = "sms"
	Email  Channel = "email"
	Push   Channel = "push" // app push, such as WeChat
	Phone  Channel = "phone"
	Letter Channel = "letter"
)

// Channels lists every channel.
var Channels = []Channel{SMS, Email, Push, Phone, Letter}

// Valid reports whether c is one of Channels.
func (c Channel) Valid() bool {
	switch c {
	case SMS, Email, Push, Phone, Letter:
		return true
	}
	return false
}

// Written reports whether c carries a written message (sms, email, push,
// letter), which the message caps count; phone calls have caps of their own.
func (c Channel) Written() bool { return c.Valid() && c != Phone }

// Outcome is what became of one contact attempt.
type Outcome string

// The outcomes.
const (
	Sent      Outcome = "sent"      // handed to the provider
	Delivered Outcome = "delivered" // the provider confirmed delivery
	Failed    Outcome = "failed"    // the provider refused it or it bounced
	Connected Outcome = "connected" // a call the customer answered: a conversation
	NoAnswer  Outcome = "no_answer" // a call nobody answered
	Deferred  Outcome = "deferred"  // not made: the rules put it off
)

// Outcomes lists every outcome.
var Outcomes = []Outcome{Sent, Delivered, Failed, Connected, NoAnswer, Deferred}

// Valid reports whether o is one of Outcomes.
func (o Outcome) Valid() bool {
	switch o {
	case Sent, Delivered, Failed, Connected, NoAnswer, Deferred:
		return true
	}
	return false
}

// Attempt is one recorded contact attempt of a plan: the history the caps
// are counted on. Every attempt counts except a Deferred one, which was
// never made; a failed message or call counts (it was attempted), and a
// phone attempt that Connected is a conversation.
type Attempt struct {
	At      time.Time `json:"at"`
	Channel Channel   `json:"channel"`
	Outcome Outcome   `json:"outcome"`
}

// Addresses says which channels the customer can be reached on, without
// carrying the personal data itself.
type Addresses struct {
	HasPhone  bool `json:"has_phone"`  // sms and phone
	HasEmail  bool `json:"has_email"`  // email
	HasPush   bool `json:"has_push"`   // push
	HasPostal bool `json:"has_postal"` // letter
}

// Has reports whether the customer has an address for ch.
func (a Addresses) Has(ch Channel) bool {
	switch ch {
	case SMS, Phone:
		return a.HasPhone
	case Email:
		return a.HasEmail
	case Push:
		return a.HasPush
	case Letter:
		return a.HasPostal
	}
	return false
}
