package stacparquet

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
)

// TestExactFloat: the fast path of tape.float reads numbers as
// strconv.ParseFloat does, to the bit.
func TestExactFloat(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for k := 0; k < 300000; k++ {
		var s string
		switch k % 4 {
		case 0:
			s = strconv.FormatFloat(r.NormFloat64()*math.Pow(10, float64(r.IntN(30)-15)), 'f', -1, 64)
		case 1:
			s = strconv.FormatFloat(math.Round(r.Float64()*1e8)/1e6, 'f', -1, 64)
		case 2:
			s = strconv.FormatFloat(r.Float64()*360-180, 'f', r.IntN(20), 64)
		case 3:
			s = strconv.FormatInt(r.Int64N(1<<60)-(1<<59), 10)
		}
		want, _ := strconv.ParseFloat(s, 64)
		if got, ok := exactFloat([]byte(s)); ok && math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("%s: %v want %v", s, got, want)
		}
	}
	for _, s := range []string{"-0", "-0.0", "0", "0.000", "9007199254740991", "9007199254740992", "1.0000000000000000000001"} {
		var tp tape
		tp.parse([]byte(s))
		want, _ := strconv.ParseFloat(s, 64)
		if got := tp.float(0); math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("%s: %v want %v", s, got, want)
		}
	}
}

// TestAppendString: the plain-ASCII shortcut writes what jsontext does,
// for every byte value within a string.
func TestAppendString(t *testing.T) {
	for c := range 256 {
		for _, s := range []string{string(rune(c)), "ab" + string([]byte{byte(c)}) + "cd", string([]byte{byte(c)})} {
			want, err := jsontext.AppendQuote(nil, strings.ToValidUTF8(s, "\uFFFD"))
			if err != nil {
				t.Fatal(err)
			}
			if got := appendString([]byte("x"), s); string(got) != "x"+string(want) {
				t.Errorf("appendString(%q) = %s, want %s", s, got[1:], want)
			}
		}
	}
}
