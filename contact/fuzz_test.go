package contact

import (
	"encoding/binary"
	"testing"
	"time"
)

// fuzzBase is the instant fuzzed earliest instants are counted from.
var fuzzBase = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// fuzzHistory decodes raw bytes, five per attempt, into a history around
// earliest: a signed offset in minutes (about ±22 days), a channel and an
// outcome.
func fuzzHistory(raw []byte, earliest time.Time) []Attempt {
	var h []Attempt
	for ; len(raw) >= 5 && len(h) < 200; raw = raw[5:] {
		off := int16(binary.BigEndian.Uint16(raw))
		h = append(h, Attempt{
			At:      earliest.Add(time.Duration(off) * time.Minute),
			Channel: Channels[int(raw[2])%len(Channels)],
			Outcome: Outcomes[int(raw[3])%len(Outcomes)],
		})
	}
	return h
}

// FuzzPlan checks that Plan's decision, for any request and history, is at
// or after the earliest instant, passes Check, and that Earliest itself and
// the instants every quarter of an hour up to the decision fail Check.
func FuzzPlan(f *testing.F) {
	f.Add(int32(2*60), uint8(0), uint8(0), uint8(0xff), uint8(0), uint8(0), []byte{})
	f.Add(int32(21*60+30), uint8(0), uint8(4), uint8(0x01), uint8(0), uint8(0), []byte{})
	f.Add(int32(6*24*60+6*60+30), uint8(1), uint8(0), uint8(0x0f), uint8(1), uint8(3), []byte{0xff, 0xa0, 0, 0, 0, 0xff, 0xb0, 0, 1, 0})
	f.Add(int32(3*24*60+10*60), uint8(0), uint8(3), uint8(0x0f), uint8(0), uint8(0), []byte{0xff, 0xc4, 3, 3, 0})                                      // conversation an hour ago
	f.Add(int32(3*24*60+15*60), uint8(5), uint8(0), uint8(0x02), uint8(2), uint8(1), []byte{0xfe, 0x00, 0, 0, 0, 0xff, 0x00, 1, 1, 0, 0, 10, 2, 2, 0}) // messages before and after
	f.Add(int32(-1), uint8(3), uint8(255), uint8(0), uint8(3), uint8(2), []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10})
	zones := make([]*time.Location, len(propertyZones))
	for i, name := range propertyZones {
		zones[i] = zone(f, name)
	}
	variants := ruleVariants()
	f.Fuzz(func(t *testing.T, minutes int32, zoneIdx, pref, addr, variant, fallback uint8, raw []byte) {
		loc := zones[int(zoneIdx)%len(zones)]
		r := variants[int(variant)%len(variants)]
		earliest := fuzzBase.Add(time.Duration(minutes%(2*366*24*60)) * time.Minute)
		req := Request{
			Earliest: earliest,
			Purpose:  "fuzz",
			Addresses: Addresses{
				HasPhone:  addr&1 != 0,
				HasEmail:  addr&2 != 0,
				HasPush:   addr&4 != 0,
				HasPostal: addr&8 != 0,
			},
		}
		if int(pref) < len(Channels) {
			req.Preferred = Channels[pref]
		}
		for i := 0; i < int(fallback)%4; i++ {
			req.Fallback = append(req.Fallback, Channels[(int(fallback)/4+i)%len(Channels)])
		}
		verifyPlan(t, r, req, fuzzHistory(raw, earliest), loc, 15*time.Minute)
	})
}
