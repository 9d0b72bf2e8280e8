package pii

import (
	"strings"
	"testing"
)

func TestMasked(t *testing.T) {
	for _, tt := range []struct {
		field Field
		in    string
		want  string
	}{
		{Name, "张三", "张*"},
		{Name, "欧阳娜娜", "欧***"},
		{Name, "Li Lei", "L*****"},
		{Name, "张", "*"},
		{Name, "", ""},
		{Name, "  张三 (demo) ", "张********"},
		{Phone, "13800000000", "138****0000"},
		{Phone, "+86 138 0000 0001", "+86**********0001"},
		{Phone, "12345678", "12****78"},
		{Phone, "1234", "1**4"},
		{Phone, "12", "**"},
		{Phone, "", ""},
		{Email, "zhang@example.com", "z***@example.com"},
		{Email, "z@example.com", "z***@example.com"},
		{Email, "@example.com", "***@example.com"},
		{Email, "not-an-email", "n***********"},
		{Email, "", ""},
		{IDNumber, "110101199003071234", "1101**********1234"},
		{IDNumber, "11010119900307123X", "1101**********123X"},
		{IDNumber, "12345678", "********"},
		{IDNumber, "", ""},
		{PushID, "push-demo-0001", "pu**********01"},
		{PushID, "abc", "***"},
		{Field("other"), "secret", "******"},
	} {
		if got := Masked(tt.field, tt.in); got != tt.want {
			t.Errorf("Masked(%s, %q) = %q, want %q", tt.field, tt.in, got, tt.want)
		}
	}
}

// Every mask hides at least 4 characters of the value, or half of a short
// one, and an email's local part.
func TestMaskedHidesMostOfTheValue(t *testing.T) {
	for _, tt := range []struct {
		field Field
		in    string
	}{
		{Phone, "13912345678"}, {Phone, "+8613912345678"}, {IDNumber, "440301198807153311"},
		{Email, "wang.xiaoming@example.com"}, {Name, "王小明"}, {PushID, "wx-9f8e7d6c5b4a"},
	} {
		got := Masked(tt.field, tt.in)
		if got == tt.in || !strings.Contains(got, "*") {
			t.Errorf("Masked(%s, %q) = %q: nothing hidden", tt.field, tt.in, got)
		}
		local := tt.in
		if tt.field == Email {
			local = tt.in[:strings.IndexByte(tt.in, '@')]
		}
		hidden, n := strings.Count(got, "*"), len([]rune(local))
		if tt.field != Email && hidden < 4 && hidden*2 < n {
			t.Errorf("Masked(%s, %q) = %q hides %d of %d characters", tt.field, tt.in, got, hidden, n)
		}
		if tt.field == Email && strings.Contains(got, local[1:]) {
			t.Errorf("Masked(%s, %q) = %q shows the local part", tt.field, tt.in, got)
		}
	}
}
