// Package pii masks a customer's personal data (name, phone number, email
// address, ID number, push id) for logs, error messages and operator
// views: enough of each value is left to tell two customers apart or to
// confirm one on the phone, never enough to contact or identify them.
//
// The values themselves are encrypted at rest by package store and in
// Temporal's histories by package codec; pii only decides what is shown.
package pii

import (
	"strings"
	"unicode/utf8"
)

// Field is a kind of personal data.
type Field string

// The personal fields of a customer.
const (
	Name     Field = "name"
	Phone    Field = "phone"
	Email    Field = "email"
	IDNumber Field = "id_number"
	PushID   Field = "push_id"
)

// Masked is v masked as its field's kind: MaskName, MaskPhone, MaskEmail,
// MaskIDNumber or MaskPushID; an unknown field is masked whole. The empty
// string stays empty (nothing to hide, and "not given" stays visible).
func Masked(f Field, v string) string {
	switch f {
	case Name:
		return MaskName(v)
	case Phone:
		return MaskPhone(v)
	case Email:
		return MaskEmail(v)
	case IDNumber:
		return MaskIDNumber(v)
	case PushID:
		return MaskPushID(v)
	}
	return stars(utf8.RuneCountInString(v))
}

// MaskName keeps the first character: "张三" -> "张*", "欧阳娜娜" ->
// "欧***", "Li Lei" -> "L*****".
func MaskName(v string) string {
	r := []rune(strings.TrimSpace(v))
	switch len(r) {
	case 0:
		return ""
	case 1:
		return "*"
	}
	return string(r[0]) + stars(len(r)-1)
}

// MaskPhone keeps the first 3 and the last 4 characters of an 11 or more
// character number ("13800000000" -> "138****0000"), fewer of a shorter
// one.
func MaskPhone(v string) string {
	r := []rune(strings.TrimSpace(v))
	n := len(r)
	if n == 0 {
		return ""
	}
	first, last := 3, 4
	if n < 11 {
		first, last = n/4, n/3
	}
	return keep(r, first, last)
}

// MaskEmail keeps the first character of the local part and the domain:
// "zhang@example.com" -> "z***@example.com". A value without @ is masked
// as a name.
func MaskEmail(v string) string {
	v = strings.TrimSpace(v)
	at := strings.LastIndexByte(v, '@')
	if at < 0 {
		return MaskName(v)
	}
	local, domain := []rune(v[:at]), v[at+1:]
	if len(local) == 0 {
		return "***@" + domain
	}
	return string(local[0]) + "***@" + domain
}

// MaskIDNumber keeps the first 4 (the region) and the last 4 characters:
// "110101199003071234" -> "1101**********1234". A value of 8 or fewer
// characters is masked whole.
func MaskIDNumber(v string) string {
	r := []rune(strings.TrimSpace(v))
	if len(r) <= 8 {
		return stars(len(r))
	}
	return keep(r, 4, 4)
}

// MaskPushID keeps the first and the last 2 characters of a longer id.
func MaskPushID(v string) string {
	r := []rune(strings.TrimSpace(v))
	if len(r) <= 6 {
		return stars(len(r))
	}
	return keep(r, 2, 2)
}

// keep shows the first and last characters of r and stars the rest;
// whatever is left in the middle is at least one star.
func keep(r []rune, first, last int) string {
	n := len(r)
	if first+last >= n {
		first, last = 0, 0
	}
	return string(r[:first]) + stars(n-first-last) + string(r[n-last:])
}

func stars(n int) string { return strings.Repeat("*", n) }
