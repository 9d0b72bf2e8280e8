package contact

import (
	"fmt"
	"time"
)

// Rule names one contact rule.
type Rule string

// The rules a contact can break.
const (
	RuleWindow              Rule = "window"
	RuleConversation        Rule = "after_conversation"
	RuleConnectedCallsDaily Rule = "connected_calls_per_day"
	RuleCallAttemptsDaily   Rule = "call_attempts_per_day"
	RuleCallAttemptsRolling Rule = "call_attempts_rolling"
	RuleMessagesDaily       Rule = "messages_per_day"
	RuleMessagesRolling     Rule = "messages_rolling"
)

// Violation is the rule a contact would break. Check returns it as a
// *Violation.
type Violation struct {
	Rule    Rule      `json:"rule"`
	Detail  string    `json:"detail"` // the rule in words, e.g. "the daily cap of 2 messages is reached"
	At      time.Time `json:"at"`
	Channel Channel   `json:"channel"`
}

// Error says which contact breaks which rule.
func (v *Violation) Error() string {
	return fmt.Sprintf("contact by %s at %s breaks the %s rule: %s", v.Channel, v.At.Format(time.RFC3339), v.Rule, v.Detail)
}
