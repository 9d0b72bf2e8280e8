package collection

import (
	"encoding/binary"
	"slices"
	"testing"
	"time"

	"github.com/fenqi/fenqi/contact"
)

// fuzzBase is the instant fuzzed instants are counted from.
var fuzzBase = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// fuzzZones are the customer time zones fuzzed, one with daylight saving.
var fuzzZones = []string{"Asia/Shanghai", "America/New_York", "Asia/Kolkata"}

// fuzzHistory decodes raw bytes, five per attempt, into a history around
// now: a signed offset in minutes (about ±22 days), a channel and an
// outcome.
func fuzzHistory(raw []byte, now time.Time) []contact.Attempt {
	var h []contact.Attempt
	for ; len(raw) >= 5 && len(h) < 100; raw = raw[5:] {
		off := int16(binary.BigEndian.Uint16(raw))
		h = append(h, contact.Attempt{
			At:      now.Add(time.Duration(off) * time.Minute),
			Channel: contact.Channels[int(raw[2])%len(contact.Channels)],
			Outcome: contact.Outcomes[int(raw[3])%len(contact.Outcomes)],
		})
	}
	return h
}

// fuzzState builds a state from bits, its instants ago minutes before now.
func fuzzState(r Rules, bits uint16, now time.Time, ago int, today string) State {
	past := now.Add(-time.Duration(ago) * time.Minute)
	var s State
	if k := int(bits % 6); k > 0 {
		s.Stage = r.Ladder[k-1].From
		s.Rounds = int(bits>>3)%4 + 1
		s.Since, s.LastAt = past, past
	}
	s.Urgent = bits&(1<<5) != 0
	s.Floor = []string{"", "M1", "M2", "M3"}[int(bits>>6)%4]
	if st := int(bits>>8) % 5; st > 0 {
		s.Referral = &Referral{Status: []ReferralStatus{ReferralPending, Referred, ReferralHold, ReferralNegotiate}[st-1], RaisedAt: past}
		if st > 1 {
			s.Referral.DecidedAt = past
		}
	}
	if st := int(bits>>11) % 4; st > 0 {
		s.WriteOff = &WriteOff{Status: []WriteOffStatus{WriteOffPending, WriteOffApproved, WriteOffDeclined}[st-1], RaisedAt: past}
		if st > 1 {
			s.WriteOff.DecidedAt = past
		}
	}
	if bits&(1<<13) != 0 {
		date, _ := time.Parse(time.DateOnly, today)
		s.Promise = &Promise{Date: localDate(date.AddDate(0, 0, ago%5-2), time.UTC), Amount: d("1.00"), MadeAt: past}
	}
	if bits&(1<<14) != 0 {
		s.PausedUntil = now.Add(time.Duration(ago%600-300) * time.Minute)
	}
	return s
}

// FuzzNext checks Next's invariants for any state, delinquency and contact
// history: no error; a wait never ends before now; nothing is planned
// while a complaint or hardship pause is on or a promise is pending; every
// contact of a round is at or after now, in order, inside the contact
// window and allowed by the contact rules (so never past a cap) given the
// history and the round's earlier steps; operator tasks carry no channel;
// and a recorded round is not planned again at the same instant.
func FuzzNext(f *testing.F) {
	f.Add(int32(10*60), uint16(4), uint8(0), uint16(0), uint16(60), uint8(0x0f), uint8(0), []byte{})
	f.Add(int32(22*60+30), uint16(35), uint8(0), uint16(2), uint16(24*60), uint8(0x0f), uint8(1), []byte{0xff, 0xa0, 4, 2, 0, 0xff, 0xb0, 3, 3, 0})
	f.Add(int32(3*60), uint16(95), uint8(1), uint16(4|3<<8), uint16(3000), uint8(0x01), uint8(3), []byte{1, 2, 3, 4, 5})
	f.Add(int32(14*60), uint16(200), uint8(2), uint16(5|3<<11), uint16(50000), uint8(0x0a), uint8(2), []byte{0, 10, 0, 0, 0, 0, 20, 1, 0, 0})
	f.Add(int32(9*60), uint16(20), uint8(0), uint16(1<<13|1<<5), uint16(100), uint8(0x0f), uint8(0), []byte{})
	f.Add(int32(9*60), uint16(20), uint8(1), uint16(1<<14|1<<6|2), uint16(10), uint8(0x0f), uint8(4), []byte{0xff, 0xf0, 3, 3, 0})
	f.Add(int32(-5000), uint16(130), uint8(0), uint16(4<<8|1<<5|4), uint16(20000), uint8(0x0f), uint8(1), []byte{0xff, 0x00, 0, 0, 0, 0xff, 0x10, 1, 1, 0, 0xff, 0x20, 2, 2, 0})
	f.Add(int32(-1), uint16(0), uint8(0), uint16(0xffff), uint16(0xffff), uint8(0xff), uint8(0xff), []byte{0xff, 0xff, 0xff, 0xff, 0xff})
	r := DefaultRules()
	cr := contact.DefaultRules()
	zones := make([]*time.Location, len(fuzzZones))
	for i, name := range fuzzZones {
		zones[i] = zone(f, name)
	}
	f.Fuzz(func(t *testing.T, minutes int32, dpd uint16, zoneIdx uint8, bits, ago uint16, addr, pref uint8, raw []byte) {
		loc := zones[int(zoneIdx)%len(zones)]
		now := fuzzBase.Add(time.Duration(minutes%(366*24*60)) * time.Minute)
		today := localDate(now, loc)
		rows := []Instalment{{No: 1, DueDate: today.AddDays(-int(dpd % 400)), Principal: d("800.00"), Interest: d("40.00"), Fee: d("0"), Overdue: dpd%400 > 0}}
		if dpd%400 == 0 {
			rows[0].DueDate = today.AddDays(10)
		}
		owed, err := r.Owed(rows, today, rate)
		if err != nil {
			t.Fatal(err)
		}
		in := Inputs{
			Owed:    owed,
			History: fuzzHistory(raw, now),
			Addresses: contact.Addresses{
				HasPhone: addr&1 != 0, HasEmail: addr&2 != 0, HasPush: addr&4 != 0, HasPostal: addr&8 != 0,
			},
			Location: loc,
		}
		if int(pref) < len(contact.Channels) {
			in.Preferred = contact.Channels[pref]
		}
		if addr&0x10 != 0 {
			in.ComplaintPausedUntil = now.Add(time.Duration(int(ago)%2000-1000) * time.Minute)
		}
		s := fuzzState(r, bits, now, int(ago), today.String())
		a, err := r.Next(s, now, in)
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		paused := now.Before(in.ComplaintPausedUntil) || now.Before(s.PausedUntil)
		if !a.IsRound() {
			if !a.At.IsZero() && a.At.Before(now) {
				t.Errorf("wait %s until %s, before now %s", a.Wait, a.At, now)
			}
			return
		}
		if paused || s.Promise != nil || s.WrittenOff() || a.DaysPastDue == 0 {
			t.Fatalf("a round while paused %v, promise %v, written off %v, %d days past due: %+v", paused, s.Promise, s.WrittenOff(), a.DaysPastDue, a)
		}
		checkRound(t, cr, a, now, in.History, loc)
		s2, err := r.Record(s, a)
		if err != nil {
			t.Fatalf("Record: %v", err)
		}
		for _, st := range a.Steps {
			if !st.Kind.Operator() {
				in.History = append(slices.Clone(in.History), contact.Attempt{At: st.At, Channel: st.Channel, Outcome: contact.Sent})
			}
		}
		again, err := r.Next(s2, now, in)
		if err != nil {
			t.Fatalf("Next after Record: %v", err)
		}
		if again.IsRound() {
			t.Errorf("round %+v planned again at the same instant after %+v", again, a)
		}
	})
}
