package channels

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
)

// FromEnv builds the worker's router from the environment:
//
//   - FENQI_WEBHOOK_URL (http or https) set: sms, email, push and letter
//     messages are posted to it (WebhookSender), with FENQI_WEBHOOK_TOKEN,
//     when set, as a bearer token;
//   - otherwise they are written to the log (LogSender).
//
// Phone contacts become call tasks (PhoneSender) stored through tasks; with
// tasks nil they go the way of the other channels.
func FromEnv(tasks TaskCreator) (*Router, error) {
	r := &Router{Senders: map[string]Sender{}, Default: LogSender{}}
	if raw := os.Getenv("FENQI_WEBHOOK_URL"); raw != "" {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("FENQI_WEBHOOK_URL must be an http(s) URL with a host")
		}
		r.Default = WebhookSender{URL: raw, Token: os.Getenv("FENQI_WEBHOOK_TOKEN")}
	}
	for _, ch := range []string{SMS, Email, Push, Letter, Phone} {
		r.Senders[ch] = r.Default
	}
	if tasks != nil {
		r.Senders[Phone] = PhoneSender{Tasks: tasks}
	}
	return r, nil
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("channels: encode %T: %v", v, err))
	}
	return b
}
