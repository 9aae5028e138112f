package geo

import (
	"fmt"
	"strings"
	"time"
)

// Interval is a time filter: an instant, or an interval whose ends may be
// open. Times are in UTC.
type Interval struct {
	// Start is the first instant included; zero when OpenStart.
	Start time.Time
	// End is the last instant included; zero when OpenEnd. For an
	// instant it equals Start.
	End time.Time
	// OpenStart and OpenEnd mark an unbounded end ("..").
	OpenStart, OpenEnd bool
	// Instant marks a single date-time rather than an interval, so that
	// String gives the server back the instant the user asked for.
	Instant bool
}

// rfc3339UTC formats with "Z" and only the fractional digits needed.
const rfc3339UTC = "2006-01-02T15:04:05.999999999Z07:00"

// String formats iv as the STAC API `datetime` parameter: an RFC 3339
// instant, or "start/end" with ".." for an open end, always in UTC
// with "Z", e.g. "2023-01-01T00:00:00Z/2023-12-31T23:59:59Z".
func (iv Interval) String() string {
	if iv.Instant {
		return iv.Start.UTC().Format(rfc3339UTC)
	}
	start, end := "..", ".."
	if !iv.OpenStart {
		start = iv.Start.UTC().Format(rfc3339UTC)
	}
	if !iv.OpenEnd {
		end = iv.End.UTC().Format(rfc3339UTC)
	}
	return start + "/" + end
}

// Contains reports whether t falls within iv, both ends included, so a
// client can apply the filter itself (e.g. to a static catalog).
func (iv Interval) Contains(t time.Time) bool {
	if !iv.OpenStart && t.Before(iv.Start) {
		return false
	}
	if !iv.OpenEnd && t.After(iv.End) {
		return false
	}
	return true
}

// ParseDatetime parses a `datetime` filter the way pystac-client does:
//
//   - an RFC 3339 date-time is an instant; without a zone it is taken as
//     UTC, with one it is converted to UTC;
//   - "start/end" is a closed interval, and ".." or an empty side leaves
//     that end open ("2023-01-01/..", "../2023-12-31", "/2023");
//   - a partial date (2023, 2023-06, 2023-06-01) stands for the whole
//     year, month or day: alone it becomes the interval from its first
//     second to its last (2023 -> 2023-01-01T00:00:00Z/2023-12-31T23:59:59Z);
//     as a start it means the period's start, as an end the period's end
//     (2023/2024 runs from the start of 2023 to the end of 2024).
//
// Impossible dates (2023-13-01, 2023-02-29), a start after the end and
// "../.." are errors.
func ParseDatetime(s string) (Interval, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return Interval{}, inputError(s, "expected a date-time or an interval, got nothing", nil)
	}
	parts := strings.Split(t, "/")
	switch len(parts) {
	case 1:
		if t == ".." {
			return Interval{}, inputError(s, `expected a date-time or an interval, got ".." alone`, nil)
		}
		start, end, exact, err := parseDateOrTime(t)
		if err != nil {
			return Interval{}, inputError(s, err.Error(), nil)
		}
		if exact {
			return Interval{Start: start, End: start, Instant: true}, nil
		}
		return Interval{Start: start, End: end}, nil
	case 2:
	default:
		return Interval{}, inputError(s, fmt.Sprintf(`expected an instant or "start/end", got %d parts separated by "/"`, len(parts)), nil)
	}
	a, b := strings.TrimSpace(parts[0]), strings.TrimSpace(parts[1])
	var iv Interval
	iv.OpenStart = a == "" || a == ".."
	iv.OpenEnd = b == "" || b == ".."
	if iv.OpenStart && iv.OpenEnd {
		return Interval{}, inputError(s, fmt.Sprintf("both ends of the interval %q are open; give at least one date", shorten(t)), nil)
	}
	if !iv.OpenStart {
		start, _, _, err := parseDateOrTime(a)
		if err != nil {
			return Interval{}, inputError(s, "start: "+err.Error(), nil)
		}
		iv.Start = start
	}
	if !iv.OpenEnd {
		start, end, exact, err := parseDateOrTime(b)
		if err != nil {
			return Interval{}, inputError(s, "end: "+err.Error(), nil)
		}
		if exact {
			end = start
		}
		iv.End = end
	}
	if !iv.OpenStart && !iv.OpenEnd && iv.Start.After(iv.End) {
		return Interval{}, inputError(s, fmt.Sprintf("start %s is after end %s",
			iv.Start.Format(rfc3339UTC), iv.End.Format(rfc3339UTC)), nil)
	}
	return iv, nil
}

// dateScanner walks one date or date-time, left to right.
type dateScanner struct {
	s string
	i int
}

// digits consumes exactly n ASCII digits.
func (d *dateScanner) digits(n int) (int, bool) {
	if d.i+n > len(d.s) {
		return 0, false
	}
	v := 0
	for _, c := range []byte(d.s[d.i : d.i+n]) {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	d.i += n
	return v, true
}

// next consumes c if it comes next.
func (d *dateScanner) next(set string) bool {
	if d.i < len(d.s) && strings.IndexByte(set, d.s[d.i]) >= 0 {
		d.i++
		return true
	}
	return false
}

func (d *dateScanner) done() bool { return d.i == len(d.s) }

func syntaxError(s string) error {
	return fmt.Errorf(`expected an RFC 3339 date-time (2023-06-01T10:00:00Z) or a date `+
		`(2023-06-01, 2023-06, 2023), got %q`, shorten(s))
}

// parseDateOrTime parses one side of an interval. For a full date-time
// it returns that time with exact set; for a partial date it returns the
// first and last second of the year, month or day.
func parseDateOrTime(s string) (start, end time.Time, exact bool, err error) {
	d := &dateScanner{s: s}
	bad := syntaxError(s)
	year, ok := d.digits(4)
	if !ok {
		return start, end, false, bad
	}
	if d.done() {
		start = time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC)
		return start, start.AddDate(1, 0, 0).Add(-time.Second), false, nil
	}
	if !d.next("-") {
		return start, end, false, bad
	}
	month, ok := d.digits(2)
	if !ok {
		return start, end, false, bad
	}
	if month < 1 || month > 12 {
		return start, end, false, fmt.Errorf("month %d out of range [1, 12] in %q", month, shorten(s))
	}
	if d.done() {
		start = time.Date(year, time.Month(month), 1, 0, 0, 0, 0, time.UTC)
		return start, start.AddDate(0, 1, 0).Add(-time.Second), false, nil
	}
	if !d.next("-") {
		return start, end, false, bad
	}
	day, ok := d.digits(2)
	if !ok {
		return start, end, false, bad
	}
	if n := daysIn(year, month); day < 1 || day > n {
		return start, end, false, fmt.Errorf("day %d out of range [1, %d] for %s %04d in %q",
			day, n, time.Month(month), year, shorten(s))
	}
	if d.done() {
		start = time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC)
		return start, start.AddDate(0, 0, 1).Add(-time.Second), false, nil
	}

	// A full date-time from here on.
	if !d.next("Tt ") {
		return start, end, false, bad
	}
	hour, ok1 := d.digits(2)
	ok2 := d.next(":")
	minute, ok3 := d.digits(2)
	ok4 := d.next(":")
	sec, ok5 := d.digits(2)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 {
		return start, end, false, bad
	}
	switch {
	case hour > 23:
		return start, end, false, fmt.Errorf("hour %d out of range [0, 23] in %q", hour, shorten(s))
	case minute > 59:
		return start, end, false, fmt.Errorf("minute %d out of range [0, 59] in %q", minute, shorten(s))
	case sec > 59:
		// Leap seconds (":60") exist in RFC 3339 but not in Go's time
		// or in any STAC server we know.
		return start, end, false, fmt.Errorf("second %d out of range [0, 59] in %q", sec, shorten(s))
	}
	nsec := 0
	if d.next(".") {
		n := 0
		for ; d.i < len(d.s) && d.s[d.i] >= '0' && d.s[d.i] <= '9'; d.i++ {
			// Digits past nanoseconds are dropped, as time.Parse does.
			if n < 9 {
				nsec = nsec*10 + int(d.s[d.i]-'0')
			}
			n++
		}
		if n == 0 {
			return start, end, false, bad
		}
		for ; n < 9; n++ {
			nsec *= 10
		}
	}
	offset := 0 // seconds east of UTC; no zone means UTC, as in pystac-client
	switch {
	case d.next("Zz"):
	case d.i < len(d.s) && (d.s[d.i] == '+' || d.s[d.i] == '-'):
		sign := 1
		if d.s[d.i] == '-' {
			sign = -1
		}
		d.i++
		oh, ok1 := d.digits(2)
		ok2 := d.next(":")
		om, ok3 := d.digits(2)
		if !ok1 || !ok2 || !ok3 {
			return start, end, false, bad
		}
		if oh > 23 || om > 59 {
			return start, end, false, fmt.Errorf("time zone offset %s out of range in %q", s[d.i-6:d.i], shorten(s))
		}
		offset = sign * (oh*3600 + om*60)
	}
	if !d.done() {
		return start, end, false, bad
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.FixedZone("", offset)).UTC()
	if t.Year() < 0 || t.Year() > 9999 {
		return start, end, false, fmt.Errorf("%q is outside the years 0000-9999 once converted to UTC", shorten(s))
	}
	return t, t, true, nil
}

func daysIn(year, month int) int {
	// Day 0 of the next month is the last day of this one.
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// IsZero reports whether iv is the zero Interval, which stands for no
// time filter at all.
func (iv Interval) IsZero() bool { return iv == Interval{} }
