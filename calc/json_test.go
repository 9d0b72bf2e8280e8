package calc

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestScheduleJSONShape(t *testing.T) {
	s, err := BuildSchedule(Terms{Method: MethodAnnuity, Principal: dec("10000"), Terms: 12, AnnualRate: dec("0.24"), Start: mustDate("2026-01-15")})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	wantPrefix := `{"rows":[{"no":1,"due_date":"2026-02-15","principal":"745.60","interest":"200.00","fee":"0.00","payment":"945.60","balance":"9254.40"},`
	if !strings.HasPrefix(string(b), wantPrefix) {
		t.Errorf("JSON starts %s, want %s", b[:len(wantPrefix)], wantPrefix)
	}
	wantSuffix := `"total_principal":"10000.00","total_interest":"1347.15","total_fee":"0.00","total_payment":"11347.15","apr_nominal":"24.0001","apr_effective":"26.8243"}`
	if !strings.HasSuffix(string(b), wantSuffix) {
		t.Errorf("JSON ends %s, want %s", b[len(b)-len(wantSuffix):], wantSuffix)
	}
	var back Schedule
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	b2, _ := json.Marshal(back)
	if string(b2) != string(b) {
		t.Errorf("round trip changed the JSON:\n%s\n%s", b, b2)
	}
	if !back.Principal.Equal(dec("10000")) || back.Rows[11].DueDate.String() != "2027-01-15" {
		t.Errorf("decoded %v %v", back.Principal, back.Rows[11].DueDate)
	}
}

func TestRowJSON(t *testing.T) {
	tests := []struct {
		row  Row
		want string
	}{
		{Row{No: 1, DueDate: mustDate("2026-02-28"), Principal: dec("1"), Interest: dec("0.5"), Fee: dec("0"), Payment: dec("1.5"), Balance: dec("99")},
			`{"no":1,"due_date":"2026-02-28","principal":"1.00","interest":"0.50","fee":"0.00","payment":"1.50","balance":"99.00"}`},
		{Row{No: 4, DueDate: mustDate("2026-05-31"), Balance: dec("8029.98"), Holiday: true},
			`{"no":4,"due_date":"2026-05-31","principal":"0.00","interest":"0.00","fee":"0.00","payment":"0.00","balance":"8029.98","holiday":true}`},
	}
	for _, tc := range tests {
		b, err := json.Marshal(tc.row)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tc.want {
			t.Errorf("got %s, want %s", b, tc.want)
		}
		var back Row
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back.JSON(), tc.row.JSON()) {
			t.Errorf("round trip %+v, want %+v", back.JSON(), tc.row.JSON())
		}
	}
	for _, bad := range []string{`{"no":1,"principal":"x"}`, `{"no":1,"due_date":"2026-02-30"}`, `[]`} {
		var r Row
		if err := json.Unmarshal([]byte(bad), &r); err == nil {
			t.Errorf("%s: want an error", bad)
		}
	}
	var s Schedule
	if err := json.Unmarshal([]byte(`{"rows":[],"total_principal":"abc"}`), &s); err == nil {
		t.Error("bad schedule total: want an error")
	}
	if b, _ := json.Marshal(Schedule{}); !strings.HasPrefix(string(b), `{"rows":[],`) {
		t.Errorf("empty schedule rows must be [], got %s", b)
	}
}
