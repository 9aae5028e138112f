package geo

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseDatetime(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		// Instants stay instants, in UTC with Z.
		{"2023-06-01T10:00:00Z", "2023-06-01T10:00:00Z"},
		{"2023-06-01t10:00:00z", "2023-06-01T10:00:00Z"},
		{"2023-06-01 10:00:00Z", "2023-06-01T10:00:00Z"},
		{"2023-06-01T10:00:00", "2023-06-01T10:00:00Z"}, // no zone: UTC, as pystac-client
		{"2023-06-01T10:00:00.123Z", "2023-06-01T10:00:00.123Z"},
		{"2023-06-01T10:00:00.120000Z", "2023-06-01T10:00:00.12Z"},
		{"2023-06-01T10:00:00.1234567891234Z", "2023-06-01T10:00:00.123456789Z"},
		{"2023-06-01T10:00:00+02:00", "2023-06-01T08:00:00Z"},
		{"2023-06-01T10:00:00-05:30", "2023-06-01T15:30:00Z"},
		{"2023-01-01T00:30:00+01:00", "2022-12-31T23:30:00Z"}, // zone moves the year
		{"  2023-06-01T10:00:00Z  ", "2023-06-01T10:00:00Z"},

		// Partial dates expand to the whole period.
		{"2023", "2023-01-01T00:00:00Z/2023-12-31T23:59:59Z"},
		{"2023-06", "2023-06-01T00:00:00Z/2023-06-30T23:59:59Z"},
		{"2023-02", "2023-02-01T00:00:00Z/2023-02-28T23:59:59Z"},
		{"2024-02", "2024-02-01T00:00:00Z/2024-02-29T23:59:59Z"}, // leap year
		{"2000-02", "2000-02-01T00:00:00Z/2000-02-29T23:59:59Z"}, // divisible by 400
		{"1900-02", "1900-02-01T00:00:00Z/1900-02-28T23:59:59Z"}, // divisible by 100
		{"2023-06-01", "2023-06-01T00:00:00Z/2023-06-01T23:59:59Z"},
		{"2024-02-29", "2024-02-29T00:00:00Z/2024-02-29T23:59:59Z"},
		{"2023-12-31", "2023-12-31T00:00:00Z/2023-12-31T23:59:59Z"},

		// Closed intervals: a partial start is its period's start, a
		// partial end its period's end.
		{"2023/2024", "2023-01-01T00:00:00Z/2024-12-31T23:59:59Z"},
		{"2023-06/2023-07", "2023-06-01T00:00:00Z/2023-07-31T23:59:59Z"},
		{"2023-06-10/2023-06-11", "2023-06-10T00:00:00Z/2023-06-11T23:59:59Z"},
		{"2023-01-01T00:00:00Z/2023-06-30T12:00:00Z", "2023-01-01T00:00:00Z/2023-06-30T12:00:00Z"},
		{"2023-06-01T10:00:00Z/2023", "2023-06-01T10:00:00Z/2023-12-31T23:59:59Z"},
		{"2023/2023-06-01T10:00:00+02:00", "2023-01-01T00:00:00Z/2023-06-01T08:00:00Z"},
		{"2023-06-01T10:00:00Z/2023-06-01T10:00:00Z", "2023-06-01T10:00:00Z/2023-06-01T10:00:00Z"},
		{"2023 / 2024", "2023-01-01T00:00:00Z/2024-12-31T23:59:59Z"},

		// Open intervals.
		{"2023-01-01/..", "2023-01-01T00:00:00Z/.."},
		{"../2023-12-31", "../2023-12-31T23:59:59Z"},
		{"2023/", "2023-01-01T00:00:00Z/.."},
		{"/2023", "../2023-12-31T23:59:59Z"},
		{"../2023-06-01T10:00:00-01:00", "../2023-06-01T11:00:00Z"},

		// Year edges.
		{"0000", "0000-01-01T00:00:00Z/0000-12-31T23:59:59Z"},
		{"9999", "9999-01-01T00:00:00Z/9999-12-31T23:59:59Z"},
	}
	for _, tt := range tests {
		iv, err := ParseDatetime(tt.in)
		if err != nil {
			t.Errorf("ParseDatetime(%q): %v", tt.in, err)
			continue
		}
		if got := iv.String(); got != tt.want {
			t.Errorf("ParseDatetime(%q).String() = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseDatetimeFields(t *testing.T) {
	iv, err := ParseDatetime("2023-06-01T10:00:00+02:00")
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2023, 6, 1, 8, 0, 0, 0, time.UTC)
	if !iv.Instant || iv.OpenStart || iv.OpenEnd || !iv.Start.Equal(want) || !iv.End.Equal(want) {
		t.Errorf("instant = %+v", iv)
	}
	if iv.Start.Location() != time.UTC {
		t.Errorf("Start in %v, want UTC", iv.Start.Location())
	}

	iv, err = ParseDatetime("../2023")
	if err != nil {
		t.Fatal(err)
	}
	if iv.Instant || !iv.OpenStart || iv.OpenEnd || !iv.Start.IsZero() ||
		!iv.End.Equal(time.Date(2023, 12, 31, 23, 59, 59, 0, time.UTC)) {
		t.Errorf("open start = %+v", iv)
	}
}

func TestParseDatetimeErrors(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", "got nothing"},
		{"..", `got ".." alone`},
		{"../..", "both ends of the interval"},
		{"/", "both ends of the interval"},
		{"2023/2024/2025", `got 3 parts separated by "/"`},
		{"2023-13-01", "month 13 out of range [1, 12]"},
		{"2023-00", "month 0 out of range [1, 12]"},
		{"2023-02-29", "day 29 out of range [1, 28] for February 2023"},
		{"2023-02-30", "day 30 out of range [1, 28] for February 2023"},
		{"2024-02-30", "day 30 out of range [1, 29] for February 2024"},
		{"2023-04-31", "day 31 out of range [1, 30] for April 2023"},
		{"2023-01-00", "day 0 out of range [1, 31]"},
		{"2023-02-29T00:00:00Z", "day 29 out of range [1, 28] for February 2023"},
		{"2023-06-01T24:00:00Z", "hour 24 out of range [0, 23]"},
		{"2023-06-01T10:60:00Z", "minute 60 out of range [0, 59]"},
		{"2023-06-01T10:00:60Z", "second 60 out of range [0, 59]"},
		{"2023-06-01T10:00:00+24:00", "time zone offset +24:00 out of range"},
		{"2024/2023", "start 2024-01-01T00:00:00Z is after end 2023-12-31T23:59:59Z"},
		{"2023-06-02/2023-06-01", "start 2023-06-02T00:00:00Z is after end 2023-06-01T23:59:59Z"},
		{"2023-06-01T10:00:01Z/2023-06-01T10:00:00Z", "is after end"},
		{"2023-13/2024", "start: month 13 out of range"},
		{"2023/2024-02-30", "end: day 30 out of range"},
		{"23", "expected an RFC 3339 date-time"},
		{"2023-6-1", "expected an RFC 3339 date-time"},
		{"20230601", "expected an RFC 3339 date-time"},
		{"2023-06-01T10:00Z", "expected an RFC 3339 date-time"},
		{"2023-06-01T10:00:00.Z", "expected an RFC 3339 date-time"},
		{"2023-06-01T10:00:00+0200", "expected an RFC 3339 date-time"},
		{"2023-06-01T10:00:00Zjunk", "expected an RFC 3339 date-time"},
		{"yesterday", "expected an RFC 3339 date-time"},
		{"０１２３", "expected an RFC 3339 date-time"}, // fullwidth digits
		{"0000-01-01T00:00:00+01:00", "outside the years 0000-9999"},
		{"9999-12-31T23:00:00-02:00", "outside the years 0000-9999"},
	}
	for _, tt := range tests {
		iv, err := ParseDatetime(tt.in)
		if err == nil {
			t.Errorf("ParseDatetime(%q) = %v, want error containing %q", tt.in, iv, tt.want)
			continue
		}
		var ie *InputError
		if !errors.As(err, &ie) {
			t.Errorf("ParseDatetime(%q): error %T is not *InputError", tt.in, err)
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseDatetime(%q) error = %q, want it to contain %q", tt.in, err, tt.want)
		}
	}
}

func TestIntervalContains(t *testing.T) {
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		iv   string
		t    string
		want bool
	}{
		{"2023", "2023-01-01T00:00:00Z", true},
		{"2023", "2023-12-31T23:59:59Z", true},
		{"2023", "2024-01-01T00:00:00Z", false},
		{"2023", "2022-12-31T23:59:59Z", false},
		{"2023", "2024-01-01T00:30:00+01:00", true}, // 2023-12-31T23:30Z
		{"2023-06-01T10:00:00Z", "2023-06-01T10:00:00Z", true},
		{"2023-06-01T10:00:00Z", "2023-06-01T10:00:01Z", false},
		{"2023/..", "9999-01-01T00:00:00Z", true},
		{"2023/..", "2022-12-31T00:00:00Z", false},
		{"../2023", "1970-01-01T00:00:00Z", true},
		{"../2023", "2024-01-01T00:00:00Z", false},
	}
	for _, tt := range tests {
		iv, err := ParseDatetime(tt.iv)
		if err != nil {
			t.Fatal(err)
		}
		if got := iv.Contains(at(tt.t)); got != tt.want {
			t.Errorf("ParseDatetime(%q).Contains(%s) = %v, want %v", tt.iv, tt.t, got, tt.want)
		}
	}
}

func FuzzParseDatetime(f *testing.F) {
	for _, s := range []string{
		"2023", "2023-06", "2023-06-01", "2023-06-01T10:00:00Z", "2023-06-01T10:00:00.5+02:00",
		"2023/2024", "2023-01-01/..", "../2023-12-31", "/2023", "2023/", "../..",
		"2023-13-01", "2023-02-29", "2024-02-29", "0000-01-01T00:00:00+01:00", "9999-12-31T23:59:59-23:59",
		"2023-06-01t10:00:00z", "2023-06-01 10:00:00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		iv, err := ParseDatetime(s)
		if err != nil {
			requireInputError(t, err)
			return
		}
		if iv.OpenStart && iv.OpenEnd {
			t.Fatalf("%q: both ends open", s)
		}
		if !iv.OpenStart && !iv.OpenEnd && iv.Start.After(iv.End) {
			t.Fatalf("%q: start after end: %+v", s, iv)
		}
		str := iv.String()
		again, err := ParseDatetime(str)
		if err != nil {
			t.Fatalf("ParseDatetime(%q) (from %q): %v", str, s, err)
		}
		if again != iv {
			t.Fatalf("round trip %q -> %+v -> %q -> %+v", s, iv, str, again)
		}
		if again.String() != str {
			t.Fatalf("String not stable: %q -> %q", str, again.String())
		}
	})
}
