package geo

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/paulmach/orb"
)

func TestParseBBox(t *testing.T) {
	tests := []struct {
		in   string
		want BBox
	}{
		{"-122.5,37.5,-122.0,38.0", BBox{-122.5, 37.5, -122, 38}},
		{" -122.5 , 37.5,\t-122 ,38 ", BBox{-122.5, 37.5, -122, 38}},
		{"[-122.5, 37.5, -122, 38]", BBox{-122.5, 37.5, -122, 38}},
		{"-180,-90,180,90", BBox{-180, -90, 180, 90}},
		{"0,0,0,0", BBox{0, 0, 0, 0}},
		{"1e1,-2.5E0,+20,5", BBox{10, -2.5, 20, 5}},
		// Antimeridian: minx > maxx is a box across 180, not an error.
		{"170,-10,-170,10", BBox{170, -10, -170, 10}},
		// 3D.
		{"-10,-10,0,10,10,100", BBox{-10, -10, 0, 10, 10, 100}},
		{"10,-10,-5,-10,10,5", BBox{10, -10, -5, -10, 10, 5}},
	}
	for _, tt := range tests {
		got, err := ParseBBox(tt.in)
		if err != nil {
			t.Errorf("ParseBBox(%q): %v", tt.in, err)
			continue
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("ParseBBox(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestParseBBoxErrors(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", `expected 4 or 6 numbers "minx,miny,maxx,maxy", got nothing`},
		{"  ", `expected 4 or 6 numbers "minx,miny,maxx,maxy", got nothing`},
		{"[]", `expected 4 or 6 numbers "minx,miny,maxx,maxy", got nothing`},
		{"1,2,3", `expected 4 or 6 numbers "minx,miny,maxx,maxy", got 3`},
		{"1,2,3,4,5", `expected 4 or 6 numbers "minx,miny,maxx,maxy", got 5`},
		{"1 2 3 4", `expected 4 or 6 numbers "minx,miny,maxx,maxy", got 1`},
		{"1,2,3,4,", `expected 4 or 6 numbers "minx,miny,maxx,maxy", got 5`},
		{"a,2,3,4", `minx "a" is not a number`},
		{"1,,3,4", `miny "" is not a number`},
		{"1,2,NaN,4", `maxx "NaN" is not a number`},
		{"1,2,3,Inf", `maxy "Inf" is not a number`},
		{"1,2,3,-infinity", `maxy "-infinity" is not a number`},
		{"0x1p1,2,3,4", `minx "0x1p1" is not a number`},
		{"1,2,3,1e400", `maxy "1e400" is too large`},
		{"0,95,10,96", `latitude 95 out of range [-90, 90]`},
		{"0,-91,10,0", `latitude -91 out of range [-90, 90]`},
		{"-181,0,10,10", `longitude -181 out of range [-180, 180]`},
		{"0,0,180.5,10", `longitude 180.5 out of range [-180, 180]`},
		{"0,10,10,0", `miny 10 is greater than maxy 0`},
		{"0,0,10,10,10,5", `minz 10 is greater than maxz 5`},
		{"0,0,0,10,95,5", `latitude 95 out of range [-90, 90]`},
	}
	for _, tt := range tests {
		_, err := ParseBBox(tt.in)
		if err == nil {
			t.Errorf("ParseBBox(%q): no error, want %q", tt.in, tt.want)
			continue
		}
		var ie *InputError
		if !errors.As(err, &ie) {
			t.Errorf("ParseBBox(%q): error %T is not *InputError", tt.in, err)
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseBBox(%q) error = %q, want it to contain %q", tt.in, err, tt.want)
		}
	}
}

func TestParseBBoxLongInputTruncated(t *testing.T) {
	in := strings.Repeat("9", 5000) + ",0,0,0"
	_, err := ParseBBox(in)
	if err == nil {
		t.Fatal("no error")
	}
	var ie *InputError
	if !errors.As(err, &ie) || len(ie.Input) > maxQuoted {
		t.Errorf("Input not truncated: %d bytes", len(ie.Input))
	}
	if len(err.Error()) > 200 {
		t.Errorf("error message is %d bytes: %.100s...", len(err.Error()), err)
	}
}

func TestBBoxBounds(t *testing.T) {
	b := BBox{-10, -5, 10, 5}
	want := orb.Bound{Min: orb.Point{-10, -5}, Max: orb.Point{10, 5}}
	if b.CrossesAntimeridian() {
		t.Error("CrossesAntimeridian = true")
	}
	if got := b.Bound(); got != want {
		t.Errorf("Bound = %v, want %v", got, want)
	}
	if got := b.Bounds(); len(got) != 1 || got[0] != want {
		t.Errorf("Bounds = %v", got)
	}
	if got := (BBox{-10, -5, 0, 10, 5, 100}).Bound(); got != want {
		t.Errorf("3D Bound = %v, want %v", got, want)
	}

	am := BBox{170, -10, -170, 10}
	if !am.CrossesAntimeridian() {
		t.Error("CrossesAntimeridian = false")
	}
	if got, want := am.Bound(), (orb.Bound{Min: orb.Point{-180, -10}, Max: orb.Point{180, 10}}); got != want {
		t.Errorf("antimeridian Bound = %v, want %v", got, want)
	}
	wantParts := []orb.Bound{
		{Min: orb.Point{170, -10}, Max: orb.Point{180, 10}},
		{Min: orb.Point{-180, -10}, Max: orb.Point{-170, 10}},
	}
	if got := am.Bounds(); !slices.Equal(got, wantParts) {
		t.Errorf("antimeridian Bounds = %v, want %v", got, wantParts)
	}
}

func TestBBoxIntersects(t *testing.T) {
	bound := func(minx, miny, maxx, maxy float64) orb.Bound {
		return orb.Bound{Min: orb.Point{minx, miny}, Max: orb.Point{maxx, maxy}}
	}
	tests := []struct {
		b     BBox
		bound orb.Bound
		want  bool
	}{
		{BBox{0, 0, 10, 10}, bound(5, 5, 20, 20), true},
		{BBox{0, 0, 10, 10}, bound(10, 10, 20, 20), true}, // touching corner
		{BBox{0, 0, 10, 10}, bound(11, 0, 20, 10), false},
		{BBox{170, -10, -170, 10}, bound(175, 0, 176, 1), true},
		{BBox{170, -10, -170, 10}, bound(-179, 0, -175, 1), true},
		{BBox{170, -10, -170, 10}, bound(0, 0, 1, 1), false}, // Bound() alone would say true
		{BBox{170, -10, -170, 10}, bound(175, 20, 176, 21), false},
	}
	for _, tt := range tests {
		if got := tt.b.Intersects(tt.bound); got != tt.want {
			t.Errorf("%v.Intersects(%v) = %v, want %v", tt.b, tt.bound, got, tt.want)
		}
	}
}

func TestBBoxString(t *testing.T) {
	tests := []struct {
		b    BBox
		want string
	}{
		{BBox{-122.5, 37.5, -122, 38}, "-122.5,37.5,-122,38"},
		{BBox{0.1, 0.2, 0.30000000000000004, 1}, "0.1,0.2,0.30000000000000004,1"},
		{BBox{-10, -10, 0, 10, 10, 100}, "-10,-10,0,10,10,100"},
	}
	for _, tt := range tests {
		if got := tt.b.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

func FuzzParseBBox(f *testing.F) {
	for _, s := range []string{
		"-122.5,37.5,-122.0,38.0", "170,-10,-170,10", "-10,-10,0,10,10,100",
		"[1,2,3,4]", " 1 , 2 , 3 , 4 ", "1,2,3", "NaN,0,0,0", "1e400,0,0,0", "0,95,1,96",
		"-0,-0,0,0", "5e-324,0,1,1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := ParseBBox(s)
		if err != nil {
			requireInputError(t, err)
			return
		}
		if len(b) != 4 && len(b) != 6 {
			t.Fatalf("got %d numbers", len(b))
		}
		for _, v := range b {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("non-finite %v in %v", v, b)
			}
		}
		again, err := ParseBBox(b.String())
		if err != nil {
			t.Fatalf("ParseBBox(%q) (from %q): %v", b.String(), s, err)
		}
		if !slices.Equal(again, b) {
			t.Fatalf("round trip %q -> %v -> %q -> %v", s, b, b.String(), again)
		}
		for _, part := range b.Bounds() {
			if part.IsEmpty() || !b.Bound().Contains(part.Min) || !b.Bound().Contains(part.Max) {
				t.Fatalf("%v: part %v not within Bound %v", b, part, b.Bound())
			}
		}
	})
}
