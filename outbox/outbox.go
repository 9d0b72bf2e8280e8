// Package outbox delivers the customer messages that activities queue in the
// outbox table (store.QueueContact), through a channels.Sender, when they
// fall due.
//
// The contact rules were applied when a message was queued: its
// available_at is the instant it may be sent, and the dispatcher sends it
// then, not before. A reminder queued days ahead may have lost its point
// when its time comes: a reminder for an instalment that is paid, waived or
// superseded by then is not sent, and its contact is recorded cancelled.
//
// Several dispatchers (worker processes) may run on one database: each
// claims a batch under a lease (store.ClaimOutboxLease), so a message is in
// the hands of one dispatcher at a time. Delivery is at least once: a
// dispatcher that dies between sending and recording leaves the message to
// be sent again when its lease ends, with the same contact key, on which a
// receiver dedupes.
package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/fenqi/fenqi/channels"
	"github.com/fenqi/fenqi/store"
)

// Defaults of the Dispatcher's settings.
const (
	DefaultBatch       = 20
	DefaultInterval    = 5 * time.Second
	DefaultLease       = 5 * time.Minute
	DefaultRetryBase   = 30 * time.Second
	DefaultRetryMax    = 30 * time.Minute
	DefaultGiveUpAfter = time.Hour
)

// leaseMargin is the time kept in hand before a lease ends: no send starts
// later than that (a send is bounded by channels.WebhookTimeout).
const leaseMargin = 30 * time.Second

// bookkeepingTimeout bounds recording a result after a send, which is done
// even when the dispatcher is being stopped.
const bookkeepingTimeout = 30 * time.Second

// Dispatcher delivers due outbox messages. Zero settings take the
// defaults above. Its methods may be called from several goroutines and
// processes at once.
type Dispatcher struct {
	Store  *store.Store
	Sender channels.Sender
	// Now is the real clock (nil: time.Now); available_at instants are
	// compared with it.
	Now func() time.Time
	// Batch is how many messages one pass claims; Interval the pause between
	// passes that found no full batch.
	Batch    int
	Interval time.Duration
	// Log gets the progress (nil: slog.Default()).
	Log *slog.Logger
	// Lease is how long a claimed batch stays with this dispatcher; a
	// message left alone that long (the dispatcher died) is claimed again.
	// It must cover a batch's sends: no send starts in the last 30 s of the
	// lease (the last half of a shorter one); the rest of the batch is put
	// back then.
	Lease time.Duration
	// RetryBase and RetryMax shape the backoff of a delivery that may
	// succeed later: RetryBase after the first attempt, doubling, at most
	// RetryMax.
	RetryBase, RetryMax time.Duration
	// GiveUpAfter: a message still not through this long after the time its
	// contact was scheduled for is recorded failed instead of being tried
	// again (sending it much later could break the contact rules the time
	// was chosen by).
	GiveUpAfter time.Duration
	// Observe, when set, is told of each message this dispatcher finished
	// (sent, delivered, failed or cancelled) or put back for a retry
	// (retried), with its channel (metrics); nil observes nothing.
	Observe Observer
}

// Observer is told of delivery outcomes.
type Observer interface {
	Contact(channel, outcome string)
}

// Retried is the outcome an Observer is told of for a message put back
// for a later attempt.
const Retried = "retried"

func (d *Dispatcher) observe(channel, outcome string) {
	if d.Observe != nil {
		d.Observe.Contact(channel, outcome)
	}
}

// Run delivers due messages until ctx is done, one pass right after
// another while passes find full batches, else every Interval. A pass that
// fails (the database is away) is logged and tried again. It returns nil
// when ctx is done, or an error if the dispatcher is not configured.
func (d *Dispatcher) Run(ctx context.Context) error {
	if err := d.check(); err != nil {
		return err
	}
	log := d.log()
	log.InfoContext(ctx, "outbox dispatcher started", "batch", d.batch(), "interval", d.interval(), "lease", d.lease())
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			log.InfoContext(ctx, "outbox dispatcher stopped")
			return nil
		case <-timer.C:
		}
		st, err := d.pass(ctx)
		if err != nil && ctx.Err() == nil {
			log.WarnContext(ctx, "outbox pass failed", "err", err)
		}
		next := d.interval()
		if err == nil && st.claimed == d.batch() {
			next = 0 // more may be waiting
		}
		timer.Reset(next)
	}
}

// DeliverDue makes one pass: it claims up to Batch due messages and
// delivers them. It returns how many it finished (sent, delivered, failed
// for good or cancelled; a message put back for a retry does not count) and
// the errors of the store, not of the deliveries.
func (d *Dispatcher) DeliverDue(ctx context.Context) (int, error) {
	if err := d.check(); err != nil {
		return 0, err
	}
	st, err := d.pass(ctx)
	return st.finished, err
}

// stats counts what a pass did.
type stats struct {
	claimed, finished, sent, delivered, failed, cancelled, retried, released int
}

func (d *Dispatcher) pass(ctx context.Context) (stats, error) {
	var st stats
	claimedAt := time.Now()
	batch, err := d.Store.ClaimOutboxLease(ctx, d.now(), d.batch(), d.lease())
	if err != nil {
		return st, fmt.Errorf("outbox pass: %w", err)
	}
	st.claimed = len(batch)
	budget := d.lease() - min(leaseMargin, d.lease()/2)
	var errs []error
	for i, item := range batch {
		if ctx.Err() != nil || time.Since(claimedAt) > budget {
			errs = append(errs, d.release(ctx, batch[i:], &st))
			break
		}
		if err := d.deliver(ctx, item, &st); err != nil {
			errs = append(errs, err)
		}
	}
	if st.claimed > 0 {
		d.log().InfoContext(ctx, "outbox pass", "claimed", st.claimed, "sent", st.sent, "delivered", st.delivered,
			"failed", st.failed, "cancelled", st.cancelled, "retried", st.retried, "released", st.released)
	}
	return st, errors.Join(errs...)
}

// release puts back claimed messages that were not tried (the dispatcher is
// stopping, or the lease is running out) for the next pass of anyone.
func (d *Dispatcher) release(ctx context.Context, rest []store.OutboxDelivery, st *stats) error {
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), bookkeepingTimeout)
	defer cancel()
	now := d.now()
	var errs []error
	for _, item := range rest {
		if err := d.Store.RetryOutbox(bctx, item.Message.ID, now, item.Message.LastError); err != nil {
			errs = append(errs, err)
			continue
		}
		st.released++
	}
	return errors.Join(errs...)
}

// deliver sends one claimed message (unless it is stale) and records what
// became of it.
func (d *Dispatcher) deliver(ctx context.Context, item store.OutboxDelivery, st *stats) error {
	m, c := item.Message, item.Contact
	log := d.log().With("outbox_id", m.ID, "contact_key", c.ContactKey, "plan_id", c.PlanID, "channel", m.Channel,
		"purpose", c.Purpose, "attempt", m.Attempts)
	// The result is recorded even if ctx ends meanwhile: the send happened.
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), bookkeepingTimeout)
	defer cancel()

	reason, err := d.stale(ctx, c)
	if err != nil {
		return d.retry(ctx, bctx, log, item, fmt.Errorf("check relevance: %w", err), st)
	}
	if reason != "" {
		done, err := d.finish(bctx, log, item, store.OutcomeCancelled, reason, st)
		if done {
			st.cancelled++
			log.InfoContext(ctx, "contact cancelled", "reason", reason)
		}
		return err
	}

	outcome, sendErr := d.Sender.Send(ctx, channels.Message{
		ContactKey: c.ContactKey, PlanID: c.PlanID.String(), Channel: m.Channel, Purpose: c.Purpose, Body: c.Body,
		Payload: m.Payload,
	})
	if !outcome.Valid() {
		if sendErr == nil {
			sendErr = fmt.Errorf("sender returned no outcome (%q)", outcome)
		}
		return d.retry(ctx, bctx, log, item, sendErr, st)
	}
	failure := ""
	if sendErr != nil {
		failure = sendErr.Error()
	} else if outcome == channels.Failed {
		failure = "refused by the channel"
	}
	done, err := d.finish(bctx, log, item, string(outcome), failure, st)
	if !done {
		return err
	}
	switch outcome {
	case channels.Sent:
		st.sent++
		log.DebugContext(ctx, "message sent")
	case channels.Delivered:
		st.delivered++
		log.DebugContext(ctx, "message delivered")
	default:
		st.failed++
		log.WarnContext(ctx, "message failed", "err", failure)
	}
	return nil
}

// finish records the final outcome of a message and reports whether this
// call finished it.
func (d *Dispatcher) finish(bctx context.Context, log *slog.Logger, item store.OutboxDelivery, outcome, failure string, st *stats) (bool, error) {
	done, err := d.Store.FinishOutbox(bctx, item.Message.ID, outcome, d.now(), failure)
	if err != nil {
		return false, fmt.Errorf("record %s of %s: %w", outcome, item.Contact.ContactKey, err)
	}
	if !done {
		// Its lease ran out and another dispatcher finished it first.
		log.WarnContext(bctx, "message was already finished", "outcome", outcome)
		return false, nil
	}
	st.finished++
	d.observe(item.Message.Channel, outcome)
	return true, nil
}

// retry puts a message back for a later attempt with backoff, or records it
// failed when it is too late to send.
func (d *Dispatcher) retry(ctx, bctx context.Context, log *slog.Logger, item store.OutboxDelivery, cause error, st *stats) error {
	now := d.now()
	m, c := item.Message, item.Contact
	if ctx.Err() != nil {
		// Stopping: not the message's fault; it is tried again at once.
		if err := d.Store.RetryOutbox(bctx, m.ID, now, cause.Error()); err != nil {
			return fmt.Errorf("put back %s: %w", c.ContactKey, err)
		}
		st.released++
		return nil
	}
	if now.Sub(c.ScheduledFor) >= d.giveUpAfter() {
		failure := fmt.Sprintf("gave up after %d attempts over %s: %v", m.Attempts, d.giveUpAfter(), cause)
		done, err := d.finish(bctx, log, item, string(channels.Failed), failure, st)
		if done {
			st.failed++
			log.WarnContext(ctx, "message failed", "err", failure)
		}
		return err
	}
	at := now.Add(d.backoff(m.Attempts))
	if err := d.Store.RetryOutbox(bctx, m.ID, at, cause.Error()); err != nil {
		return fmt.Errorf("reschedule %s: %w", c.ContactKey, err)
	}
	st.retried++
	d.observe(m.Channel, Retried)
	log.WarnContext(ctx, "delivery will be retried", "err", cause, "retry_at", at)
	return nil
}

// stale says why a contact is no longer worth sending ("" if it is): a
// reminder of an instalment already paid, waived, superseded or written
// off.
func (d *Dispatcher) stale(ctx context.Context, c store.Contact) (string, error) {
	if c.Purpose != "reminder" || c.ScheduleVersion == 0 || c.InstalmentNo == 0 {
		return "", nil
	}
	in, err := d.Store.GetInstalment(ctx, c.PlanID, c.ScheduleVersion, c.InstalmentNo)
	if err != nil {
		return "", err
	}
	switch in.Status {
	case store.InstalmentPaid, store.InstalmentWaived, store.InstalmentSuperseded, store.InstalmentWrittenOff:
		return fmt.Sprintf("instalment v%d #%d is %s", c.ScheduleVersion, c.InstalmentNo, in.Status), nil
	}
	return "", nil
}

// backoff is the wait after the attempts-th failed attempt.
func (d *Dispatcher) backoff(attempts int) time.Duration {
	wait, limit := d.retryBase(), d.retryMax()
	for i := 1; i < attempts && wait < limit; i++ {
		wait *= 2
	}
	return min(wait, limit)
}

func (d *Dispatcher) check() error {
	if d.Store == nil || d.Sender == nil {
		return errors.New("outbox dispatcher needs a store and a sender")
	}
	return nil
}

func (d *Dispatcher) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Dispatcher) log() *slog.Logger {
	if d.Log != nil {
		return d.Log
	}
	return slog.Default()
}

func (d *Dispatcher) batch() int                 { return orDefault(d.Batch, DefaultBatch) }
func (d *Dispatcher) interval() time.Duration    { return orDefault(d.Interval, DefaultInterval) }
func (d *Dispatcher) lease() time.Duration       { return orDefault(d.Lease, DefaultLease) }
func (d *Dispatcher) retryBase() time.Duration   { return orDefault(d.RetryBase, DefaultRetryBase) }
func (d *Dispatcher) retryMax() time.Duration    { return orDefault(d.RetryMax, DefaultRetryMax) }
func (d *Dispatcher) giveUpAfter() time.Duration { return orDefault(d.GiveUpAfter, DefaultGiveUpAfter) }
func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}
