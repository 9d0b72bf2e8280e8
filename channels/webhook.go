package channels

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// WebhookTimeout bounds one webhook call.
const WebhookTimeout = 10 * time.Second

var defaultClient = &http.Client{Timeout: WebhookTimeout}

// WebhookSender posts each message as JSON (a Message) to URL.
//
// The request carries Content-Type application/json, Idempotency-Key (the
// message's ContactKey: a retried message has the same key, so the
// receiver can drop repeats) and, when Token is set, Authorization: Bearer
// Token. A 2xx answer is Delivered; 408 and 429 are retried; any other 4xx
// is Failed (the receiver refused the message, sending it again would not
// help); a 5xx, another answer, a network error or the 10 s timeout is an
// error to retry.
type WebhookSender struct {
	URL string
	// Client makes the calls (nil: a client with a 10 s timeout). Each call
	// is bounded by WebhookTimeout whatever the client.
	Client *http.Client
	// Token, when set, is sent as a bearer token.
	Token string
}

// Send posts m to the webhook.
func (w WebhookSender) Send(ctx context.Context, m Message) (Outcome, error) {
	body, err := json.Marshal(m)
	if err != nil {
		return Failed, fmt.Errorf("webhook: encode message %s: %w", m.ContactKey, err)
	}
	ctx, cancel := context.WithTimeout(ctx, WebhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("webhook: build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", m.ContactKey)
	if w.Token != "" {
		req.Header.Set("Authorization", "Bearer "+w.Token)
	}
	client := w.Client
	if client == nil {
		client = defaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		// The URL may hold secrets: keep the cause, not the URL.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", fmt.Errorf("webhook: post %s: %w", m.ContactKey, err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	code := resp.StatusCode
	switch {
	case code >= 200 && code < 300:
		return Delivered, nil
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests:
		return "", webhookError(code, snippet)
	case code >= 400 && code < 500:
		return Failed, webhookError(code, snippet)
	default:
		return "", webhookError(code, snippet)
	}
}

func webhookError(code int, body []byte) error {
	text := strings.TrimSpace(strings.ToValidUTF8(string(body), "?"))
	if text == "" {
		return fmt.Errorf("webhook answered %d %s", code, http.StatusText(code))
	}
	return fmt.Errorf("webhook answered %d %s: %s", code, http.StatusText(code), text)
}
