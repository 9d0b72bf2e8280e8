package store

import (
	"regexp"
	"strings"
	"testing"
)

// sealedShape is the shape migration 008 checks; isSealed must agree.
var sealedShape = regexp.MustCompile(`^v1:[A-Za-z0-9._-]{1,64}:[A-Za-z0-9+/]+=*$`)

func TestIsSealedMatchesTheSchemasShape(t *testing.T) {
	cases := []struct {
		v    string
		want bool
	}{
		{"v1:k1:QUJD", true},
		{"v1:key-2026.a_b:QUJDRA==", true},
		{"v1:" + strings.Repeat("k", 64) + ":QQ==", true},
		{"v1:" + strings.Repeat("k", 65) + ":QQ==", false},
		{"v1::QUJD", false},
		{"v1:k1:", false},
		{"v1:k1:==", false},
		{"v1:k1:QU=JD", false},
		{"v1:k1:QUJD:x", false},
		{"v1:k 1:QUJD", false},
		{"v2:k1:QUJD", false},
		{"v1:k1", false},
		{"plain text", false},
		{"", false},
		{"v1:k1:QUJD\n", false},
	}
	for _, c := range cases {
		if got := isSealed(c.v); got != c.want {
			t.Errorf("isSealed(%q) = %v, want %v", c.v, got, c.want)
		}
		if re := sealedShape.MatchString(c.v); re != c.want {
			t.Errorf("the schema's shape says %v for %q, the table %v", re, c.v, c.want)
		}
	}
}

func FuzzIsSealed(f *testing.F) {
	for _, s := range []string{"v1:k1:QUJD", "v1:k:==", "v1:a.b-c_d:Zm9v+/8=", "x", "v1:k1:QU=JD"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if got, want := isSealed(v), sealedShape.MatchString(v); got != want {
			t.Fatalf("isSealed(%q) = %v, the schema's shape %v", v, got, want)
		}
	})
}
