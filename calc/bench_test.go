package calc

import (
	"testing"

	"github.com/shopspring/decimal"
)

func BenchmarkAnnuitySchedule360(b *testing.B) {
	t := Terms{Method: MethodAnnuity, Principal: dec("1000000"), Terms: 360, AnnualRate: dec("0.049"), Start: mustDate("2026-01-31")}
	for b.Loop() {
		if _, err := BuildSchedule(t); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkIRR(b *testing.B) {
	for _, n := range []int{12, 360} {
		s, err := BuildSchedule(Terms{Method: MethodAnnuity, Principal: dec("1000000"), Terms: n, AnnualRate: dec("0.049"), Start: mustDate("2026-01-31")})
		if err != nil {
			b.Fatal(err)
		}
		payments := make([]decimal.Decimal, n)
		for k, r := range s.Rows {
			payments[k] = r.Payment
		}
		b.Run(map[int]string{12: "12", 360: "360"}[n], func(b *testing.B) {
			for b.Loop() {
				if _, err := AnnualisedIRR(dec("1000000"), payments, 12); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
