package clock

import (
	"errors"
	"math"
	"testing"
	"time"
)

// origin has a sub-millisecond part on purpose: offsets are rounded, the
// origin is kept.
var origin = time.Date(2026, 3, 1, 9, 0, 0, 123456789, time.FixedZone("CST", 8*3600))

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		c    Clock
		ok   bool
	}{
		{"real time", Clock{}, true},
		{"real time with origin", Clock{Origin: origin}, true},
		{"demo speed", Clock{Origin: origin, DaySeconds: 0.05}, true},
		{"shortest day", Clock{Origin: origin, DaySeconds: MinDaySeconds}, true},
		{"real speed scaled", Clock{Origin: origin, DaySeconds: MaxDaySeconds}, true},
		{"too short", Clock{Origin: origin, DaySeconds: 0.0009}, false},
		{"too long", Clock{Origin: origin, DaySeconds: 86400.5}, false},
		{"negative", Clock{Origin: origin, DaySeconds: -1}, false},
		{"NaN", Clock{Origin: origin, DaySeconds: math.NaN()}, false},
		{"infinite", Clock{Origin: origin, DaySeconds: math.Inf(1)}, false},
		{"no origin", Clock{DaySeconds: 0.05}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.c.Validate()
			if tt.ok && err != nil {
				t.Fatalf("Validate() = %v, want nil", err)
			}
			if !tt.ok && !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate() = %v, want an error wrapping ErrInvalid", err)
			}
		})
	}
}

func TestScaled(t *testing.T) {
	if (Clock{}).Scaled() {
		t.Error("zero clock is scaled")
	}
	if !(Clock{Origin: origin, DaySeconds: 0.05}).Scaled() {
		t.Error("0.05 s/day clock is not scaled")
	}
}

func TestBusiness(t *testing.T) {
	tests := []struct {
		days float64
		real time.Duration // after origin
		want time.Duration // business, after origin
	}{
		{0.05, 0, 0},
		{0.05, 50 * time.Millisecond, 24 * time.Hour},
		{0.05, 25 * time.Millisecond, 12 * time.Hour},
		{0.05, time.Second, 20 * 24 * time.Hour},
		{0.05, -50 * time.Millisecond, -24 * time.Hour},
		{0.05, time.Nanosecond, 2 * time.Millisecond},   // 1.728 ms
		{0.05, -time.Nanosecond, -2 * time.Millisecond}, // symmetric
		{0.001, time.Millisecond, 24 * time.Hour},
		{1, time.Second, 24 * time.Hour},
		{86400, time.Hour + 400*time.Microsecond, time.Hour},                    // rounds down
		{86400, time.Hour + 500*time.Microsecond, time.Hour + time.Millisecond}, // half away from zero
		{86400, -time.Hour - 500*time.Microsecond, -time.Hour - time.Millisecond},
	}
	for _, tt := range tests {
		c := Clock{Origin: origin, DaySeconds: tt.days}
		real := origin.Add(tt.real).UTC()
		got := c.Business(real)
		if want := origin.Add(tt.want); !got.Equal(want) {
			t.Errorf("%v s/day: Business(origin%+v) = %v, want origin%+v", tt.days, tt.real, got, tt.want)
		}
		if got.Location() != time.UTC {
			t.Errorf("%v s/day: Business(%v) in %v, want the argument's location UTC", tt.days, real, got.Location())
		}
	}
}

func TestReal(t *testing.T) {
	tests := []struct {
		days     float64
		business time.Duration // after origin
		want     time.Duration // real, after origin
	}{
		{0.05, 0, 0},
		{0.05, 24 * time.Hour, 50 * time.Millisecond},
		{0.05, 12 * time.Hour, 25 * time.Millisecond},
		{0.05, time.Hour, 2 * time.Millisecond},       // 2.083 ms
		{0.05, 13 * time.Hour, 27 * time.Millisecond}, // 27.083 ms
		{0.05, 864 * time.Second, time.Millisecond},   // exactly 0.5 ms: half away from zero
		{0.05, -864 * time.Second, -time.Millisecond},
		{0.05, 863 * time.Second, 0},
		{0.05, -24 * time.Hour, -50 * time.Millisecond},
		{0.001, 24 * time.Hour, time.Millisecond},
		{86400, time.Hour + 499*time.Microsecond, time.Hour},
	}
	for _, tt := range tests {
		c := Clock{Origin: origin, DaySeconds: tt.days}
		got := c.Real(origin.Add(tt.business))
		if want := origin.Add(tt.want); !got.Equal(want) {
			t.Errorf("%v s/day: Real(origin%+v) = %v, want origin%+v", tt.days, tt.business, got, tt.want)
		}
	}
}

func TestDurations(t *testing.T) {
	tests := []struct {
		days     float64
		business time.Duration
		real     time.Duration
	}{
		{0.05, 24 * time.Hour, 50 * time.Millisecond},
		{0.05, 3 * 24 * time.Hour, 150 * time.Millisecond},
		{0.05, -24 * time.Hour, -50 * time.Millisecond},
		{1, 24 * time.Hour, time.Second},
		{86400, time.Minute, time.Minute},
	}
	for _, tt := range tests {
		c := Clock{Origin: origin, DaySeconds: tt.days}
		if got := c.RealDuration(tt.business); got != tt.real {
			t.Errorf("%v s/day: RealDuration(%v) = %v, want %v", tt.days, tt.business, got, tt.real)
		}
		if got := c.BusinessDuration(tt.real); got != tt.business {
			t.Errorf("%v s/day: BusinessDuration(%v) = %v, want %v", tt.days, tt.real, got, tt.business)
		}
	}
	c := Clock{Origin: origin, DaySeconds: 0.05}
	if got := c.RealDuration(time.Hour); got != 2*time.Millisecond {
		t.Errorf("RealDuration(1h) = %v, want 2ms (2.083 ms rounded)", got)
	}
	if got := c.BusinessDuration(time.Nanosecond); got != 2*time.Millisecond {
		t.Errorf("BusinessDuration(1ns) = %v, want 2ms (1.728 ms rounded)", got)
	}
	if got := c.BusinessDuration(math.MaxInt64); got != math.MaxInt64 {
		t.Errorf("BusinessDuration(max) = %v, want saturation at %v", got, time.Duration(math.MaxInt64))
	}
	if got := c.BusinessDuration(math.MinInt64); got != math.MinInt64 {
		t.Errorf("BusinessDuration(min) = %v, want saturation at %v", got, time.Duration(math.MinInt64))
	}
}

func TestIdentityWhenOff(t *testing.T) {
	c := Clock{Origin: origin}
	for _, x := range []time.Time{origin, origin.Add(1234567 * time.Nanosecond), time.Date(2056, 2, 29, 23, 59, 59, 999999999, time.UTC), {}} {
		if got := c.Business(x); got != x {
			t.Errorf("Business(%v) = %v, want it unchanged", x, got)
		}
		if got := c.Real(x); got != x {
			t.Errorf("Real(%v) = %v, want it unchanged", x, got)
		}
	}
	for _, d := range []time.Duration{0, time.Nanosecond, -time.Hour, math.MaxInt64} {
		if got := c.RealDuration(d); got != d {
			t.Errorf("RealDuration(%v) = %v, want it unchanged", d, got)
		}
		if got := c.BusinessDuration(d); got != d {
			t.Errorf("BusinessDuration(%v) = %v, want it unchanged", d, got)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	offsets := []time.Duration{0, time.Millisecond, 7 * time.Millisecond, 999 * time.Millisecond, 3*time.Minute + 17*time.Millisecond, 548 * time.Second, -41 * time.Millisecond, 36 * time.Hour}
	odd := []time.Duration{time.Nanosecond, 499999 * time.Nanosecond, 500000 * time.Nanosecond, 1234567891, -987654321}
	for _, days := range []float64{0.001, 0.05, 0.3, 1, 17.5, 3600, 86400} {
		c := Clock{Origin: origin, DaySeconds: days}
		for _, off := range offsets {
			real := origin.Add(off)
			if got := c.Real(c.Business(real)); !got.Equal(real) {
				t.Errorf("%v s/day: Real(Business(origin%+v)) = origin%+v", days, off, got.Sub(origin))
			}
		}
		for _, off := range odd {
			once := c.Real(c.Business(origin.Add(off)))
			if d := once.Sub(origin); d%time.Millisecond != 0 {
				t.Errorf("%v s/day: Real(Business(origin%+v)) = origin%+v, not whole milliseconds", days, off, d)
			}
			if twice := c.Real(c.Business(once)); !twice.Equal(once) {
				t.Errorf("%v s/day: Real∘Business not stable at origin%+v: %v then %v", days, off, once, twice)
			}
		}
		if days == 86400 { // real speed: business instants are real instants
			for _, off := range offsets {
				b := origin.Add(off)
				if got := c.Business(c.Real(b)); !got.Equal(b) {
					t.Errorf("86400 s/day: Business(Real(origin%+v)) = %v", off, got)
				}
			}
		}
	}
}

func TestMonotonic(t *testing.T) {
	c := Clock{Origin: origin, DaySeconds: 0.05}
	prevB, prevR := c.Business(origin.Add(-time.Second)), c.Real(origin.Add(-24*time.Hour))
	for step := -time.Second; step <= time.Second; step += 7919 * time.Microsecond {
		b := c.Business(origin.Add(step))
		if b.Before(prevB) {
			t.Fatalf("Business goes back at origin%+v: %v < %v", step, b, prevB)
		}
		prevB = b
		r := c.Real(origin.Add(step * 1728))
		if r.Before(prevR) {
			t.Fatalf("Real goes back at origin%+v: %v < %v", step*1728, r, prevR)
		}
		prevR = r
	}
}

// TestLongPlan maps every due date of a 360-month plan at demo speed: the
// whole 30-year span takes about 548 real seconds and each real instant is
// the exact one, to the millisecond, with no drift at the far end.
func TestLongPlan(t *testing.T) {
	start := time.Date(2026, 1, 31, 10, 0, 0, 0, time.UTC)
	c := Clock{Origin: start, DaySeconds: 0.05}
	var prev time.Time
	for k := 0; k <= 360; k++ {
		due := start.AddDate(0, k, 0)
		real := c.Real(due)
		secs := int64(due.Sub(start) / time.Second)
		// exact: secs x 0.05 / 86400 real seconds = secs x 50 / 86400 ms.
		wantMS := (secs*50*2 + 86400) / (2 * 86400)
		if got := real.Sub(start); got != time.Duration(wantMS)*time.Millisecond {
			t.Fatalf("month %d: Real = start%+v, want start+%dms", k, got, wantMS)
		}
		naive := float64(secs) * 0.05 / 86400 * float64(time.Second)
		if diff := math.Abs(float64(real.Sub(start)) - naive); diff > float64(time.Millisecond) {
			t.Fatalf("month %d: Real = start%+v, float64 formula gives %v", k, real.Sub(start), time.Duration(naive))
		}
		// Back to business time: within half a real millisecond of business
		// time of the due date.
		half := c.BusinessDuration(time.Millisecond) / 2
		if diff := c.Business(real).Sub(due); diff < -half || diff > half {
			t.Fatalf("month %d: Business(Real(due)) is due%+v, want within ±%v", k, diff, half)
		}
		if real.Before(prev) {
			t.Fatalf("month %d: real instants go back", k)
		}
		prev = real
	}
	span := prev.Sub(start)
	if span < 547*time.Second || span > 549*time.Second {
		t.Fatalf("360 months take %v real time, want about 548s", span)
	}
	if got := c.RealDuration(prev.Sub(start) * 1728000); got != span {
		t.Errorf("RealDuration of the business span = %v, want %v", got, span)
	}
}

// TestFarInstants checks that instants far from the origin neither panic
// nor run backwards.
func TestFarInstants(t *testing.T) {
	c := Clock{Origin: origin, DaySeconds: MinDaySeconds}
	far := origin.Add(200 * 365 * 24 * time.Hour)
	b := c.Business(far)
	if !b.After(far) {
		t.Errorf("Business(%v) = %v, want later", far, b)
	}
	demo := Clock{Origin: origin, DaySeconds: 0.05}
	later := origin.Add(100 * 24 * time.Hour) // 473,000 business years
	if back := demo.Real(demo.Business(later)); !back.Equal(later) {
		t.Errorf("Real(Business(%v)) = %v: the business offset is beyond time.Duration but must map back", later, back)
	}
	if got := c.Business(origin.Add(-200 * 365 * 24 * time.Hour)); !got.Before(origin) {
		t.Errorf("Business far before origin = %v, want before origin", got)
	}
	bad := Clock{Origin: origin, DaySeconds: math.NaN()}
	if got := bad.Business(origin.Add(time.Millisecond)); !got.Equal(origin.Add(24 * time.Hour)) {
		t.Errorf("NaN day seconds: Business(origin+1ms) = %v, want clamped to %v s/day", got, MinDaySeconds)
	}
}
