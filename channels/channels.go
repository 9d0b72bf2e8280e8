// Package channels delivers customer messages: SMS, email, app push, letters
// and phone calls (a call is a task for an agent) behind one Sender
// interface.
//
// Contact rules are not applied here: a message reaches a Sender only when
// the rules already allowed it (it was queued in the outbox for that
// instant). The default delivery is LogSender (the outbox row is the
// durable record); WebhookSender posts each message as JSON to a URL; a
// Router picks the sender by channel, and FromEnv builds the worker's.
package channels

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
)

// The channels, as stored in contacts.channel and outbox.channel.
const (
	SMS    = "sms"
	Email  = "email"
	Push   = "push" // app push, such as WeChat
	Phone  = "phone"
	Letter = "letter"
)

// Outcome is what became of a delivery, as stored in contacts.outcome.
type Outcome string

// The outcomes a Sender reports.
const (
	// Sent: handed over (to the log, a provider or an agent's queue).
	Sent Outcome = "sent"
	// Delivered: the receiver confirmed it took the message.
	Delivered Outcome = "delivered"
	// Failed: refused for good; sending it again would not help.
	Failed Outcome = "failed"
)

// Valid reports whether o is Sent, Delivered or Failed.
func (o Outcome) Valid() bool { return o == Sent || o == Delivered || o == Failed }

// Message is one message to deliver to the customer of a plan.
type Message struct {
	// ContactKey is the contact's business key: a receiver dedupes on it.
	ContactKey string `json:"contact_key"`
	PlanID     string `json:"plan_id"`
	// Channel is sms, email, push, phone or letter; Purpose reminder,
	// schedule_notice, collection, notice, alert or check_in.
	Channel string `json:"channel"`
	Purpose string `json:"purpose"`
	// Body is the text for the customer.
	Body string `json:"body"`
	// Payload is the outbox payload (a JSON object).
	Payload json.RawMessage `json:"payload,omitempty"`
}

// Sender delivers a message.
//
// A delivery that is over returns its outcome: Sent, Delivered, or Failed
// (with an error saying why, if there is one); it is not tried again. An
// empty outcome with an error means the message may go through later: the
// caller tries again after a while. The message's ContactKey is the same on
// every try, so a receiver can drop repeats.
type Sender interface {
	Send(ctx context.Context, m Message) (Outcome, error)
}

// LogSender writes each message to the log and reports it sent: the
// default delivery, where the outbox row is the durable record.
type LogSender struct {
	// Log is the logger (nil: slog.Default()).
	Log *slog.Logger
}

// Send logs m and returns Sent.
func (l LogSender) Send(ctx context.Context, m Message) (Outcome, error) {
	log := l.Log
	if log == nil {
		log = slog.Default()
	}
	log.InfoContext(ctx, "message sent", "contact_key", m.ContactKey, "plan_id", m.PlanID, "channel", m.Channel,
		"purpose", m.Purpose, "body", m.Body)
	return Sent, nil
}

// Router sends each message through the sender of its channel.
type Router struct {
	// Senders maps a channel to its sender.
	Senders map[string]Sender
	// Default serves the channels Senders does not name (nil: none).
	Default Sender
}

// Send delivers m through the sender of m.Channel, or Default. A channel
// without a sender is an error to retry (the configuration may be fixed).
func (r *Router) Send(ctx context.Context, m Message) (Outcome, error) {
	if s, ok := r.Senders[m.Channel]; ok && s != nil {
		return s.Send(ctx, m)
	}
	if r.Default != nil {
		return r.Default.Send(ctx, m)
	}
	return "", fmt.Errorf("no sender for channel %q", m.Channel)
}
