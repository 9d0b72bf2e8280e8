package clock

import (
	"math"
	"math/big"
	"time"
)

// With d real nanoseconds per business day, r real nanoseconds are
// r x 86400e9 / d business nanoseconds, that is r x businessMillisNum / d
// business milliseconds; b business nanoseconds are b x d / realMillisDen
// real milliseconds.
const (
	nanosPerDay       = 86400 * int64(time.Second)
	businessMillisNum = nanosPerDay / int64(time.Millisecond) // 8.64e7
)

// realMillisDen is 86400e9 x 1e6 = 8.64e19, which does not fit in an int64.
var realMillisDen = new(big.Int).Mul(big.NewInt(nanosPerDay), big.NewInt(int64(time.Millisecond)))

// sinceNanos returns t - base in nanoseconds, exactly: unlike time.Sub it
// does not saturate at about 292 years.
func sinceNanos(t, base time.Time) *big.Int {
	n := big.NewInt(t.Unix() - base.Unix())
	n.Mul(n, big.NewInt(int64(time.Second)))
	return n.Add(n, big.NewInt(int64(t.Nanosecond()-base.Nanosecond())))
}

// scaleRound returns x*num/den rounded half away from zero, exactly. den is
// positive.
func scaleRound(x *big.Int, num int64, den *big.Int) *big.Int {
	n := new(big.Int).Mul(x, big.NewInt(num))
	neg := n.Sign() < 0
	n.Abs(n)
	// round(n/den) = floor((2n + den) / 2den) for n >= 0.
	n.Lsh(n, 1).Add(n, den)
	q := n.Quo(n, new(big.Int).Lsh(den, 1))
	if neg {
		q.Neg(q)
	}
	return q
}

// maxOffsetSeconds bounds the offset addMillis applies, about 35 million
// years either way, far inside the range of time.Time.
const maxOffsetSeconds = 1 << 50

// addMillis returns base moved by ms milliseconds, keeping base's
// sub-millisecond part; an offset beyond maxOffsetSeconds saturates.
func addMillis(base time.Time, ms *big.Int) time.Time {
	sec, rem := new(big.Int).QuoRem(ms, big.NewInt(1000), new(big.Int))
	switch {
	case sec.Cmp(big.NewInt(maxOffsetSeconds)) > 0:
		sec.SetInt64(maxOffsetSeconds)
	case sec.Cmp(big.NewInt(-maxOffsetSeconds)) < 0:
		sec.SetInt64(-maxOffsetSeconds)
	}
	return time.Unix(base.Unix()+sec.Int64(), int64(base.Nanosecond())+rem.Int64()*int64(time.Millisecond))
}

// millisDuration returns ms milliseconds as a Duration, saturated at the
// largest Duration either way.
func millisDuration(ms *big.Int) time.Duration {
	ns := new(big.Int).Mul(ms, big.NewInt(int64(time.Millisecond)))
	switch {
	case ns.IsInt64():
		return time.Duration(ns.Int64())
	case ns.Sign() < 0:
		return math.MinInt64
	default:
		return math.MaxInt64
	}
}
