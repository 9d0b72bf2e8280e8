package calc

import "testing"

func TestBucket(t *testing.T) {
	tests := []struct {
		dpd  int
		want string
	}{
		{-3, "M0"}, {0, "M0"}, {1, "M1"}, {30, "M1"}, {31, "M2"}, {60, "M2"}, {61, "M3"}, {90, "M3"},
		{91, "M4"}, {120, "M4"}, {121, "M5"}, {150, "M5"}, {151, "M6"}, {180, "M6"}, {181, "M7"}, {5000, "M7"},
	}
	for _, tt := range tests {
		if got := Bucket(tt.dpd); got != tt.want {
			t.Errorf("Bucket(%d) = %s, want %s", tt.dpd, got, tt.want)
		}
	}
}
