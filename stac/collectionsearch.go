package stac

import (
	"strings"
	"time"
	"unicode"

	"github.com/paulmach/orb"

	"github.com/stacq/stacq/geo"
)

// Collection search without the collection-search class: the client
// applies bbox, datetime and q to the collections listed, as pystac-client
// does, so that a collection search means the same on every API.

// clientSide reports whether the collection search p must be applied by
// the client, and returns p without what the client applies.
func (c *Client) clientSide(p CollectionsParams) (bool, CollectionsParams) {
	if c.Conforms("collection-search") || (len(p.BBox) == 0 && p.Datetime.IsZero() && p.Q == "") {
		return false, p
	}
	sent := p
	sent.BBox, sent.Datetime, sent.Q = nil, geo.Interval{}, ""
	return true, sent
}

// matchCollection reports whether col passes the bbox, datetime and q of p:
// its spatial extent intersects the bbox, its temporal extent overlaps the
// datetime, and its title, description and keywords match q.
func matchCollection(col *Collection, p CollectionsParams, q *textQuery) bool {
	if len(p.BBox) > 0 && !extentIntersects(col.Extent, p.BBox) {
		return false
	}
	if !p.Datetime.IsZero() && !extentOverlaps(col.Extent, p.Datetime) {
		return false
	}
	if q != nil {
		fields := [][]string{words(col.Title), words(col.Description), words(strings.Join(col.Keywords, ", "))}
		if !q.match(fields) {
			return false
		}
	}
	return true
}

// extentIntersects reports whether the overall spatial extent (the first
// bbox) intersects bbox; a collection without one matches.
func extentIntersects(e *Extent, bbox geo.BBox) bool {
	if e == nil || len(e.Spatial.BBox) == 0 {
		return true
	}
	b := e.Spatial.BBox[0]
	var bound orb.Bound
	switch len(b) {
	case 4:
		bound = orb.Bound{Min: orb.Point{b[0], b[1]}, Max: orb.Point{b[2], b[3]}}
	case 6:
		bound = orb.Bound{Min: orb.Point{b[0], b[1]}, Max: orb.Point{b[3], b[4]}}
	default:
		return true
	}
	if bound.Min[0] > bound.Max[0] { // crosses the antimeridian
		east := orb.Bound{Min: bound.Min, Max: orb.Point{180, bound.Max[1]}}
		west := orb.Bound{Min: orb.Point{-180, bound.Min[1]}, Max: bound.Max}
		return bbox.Intersects(east) || bbox.Intersects(west)
	}
	return bbox.Intersects(bound)
}

// extentOverlaps reports whether the overall temporal extent (the first
// interval) overlaps iv; a collection without one matches.
func extentOverlaps(e *Extent, iv geo.Interval) bool {
	if e == nil || len(e.Temporal.Interval) == 0 || len(e.Temporal.Interval[0]) != 2 {
		return true
	}
	parse := func(s *string) (time.Time, bool) {
		if s == nil {
			return time.Time{}, false
		}
		t, err := time.Parse(time.RFC3339Nano, *s)
		return t, err == nil
	}
	if start, ok := parse(e.Temporal.Interval[0][0]); ok && !iv.OpenEnd && start.After(iv.End) {
		return false
	}
	if end, ok := parse(e.Temporal.Interval[0][1]); ok && !iv.OpenStart && end.Before(iv.Start) {
		return false
	}
	return true
}

// textQuery is a parsed free-text query (OGC API - Features - Part 9's q):
// terms and quoted phrases, all required ("+term" says it again), "-term"
// excluded, "," between alternatives, parentheses to group. Terms match
// whole words, without regard to case.
type textQuery struct {
	any []textAll // alternatives, separated by ","
}

type textAll struct {
	terms []textTerm // all required
}

type textTerm struct {
	phrase []string   // words in a row; nil for a group
	group  *textQuery // a parenthesised query
	not    bool
}

// parseTextQuery parses q; it never fails: stray parentheses are ignored.
func parseTextQuery(q string) *textQuery {
	toks := textTokens(q)
	tq, _ := parseAny(toks, 0)
	return tq
}

// textTokens splits q into quoted phrases, ",", "(", ")" and terms.
func textTokens(q string) []string {
	var toks []string
	for i := 0; i < len(q); {
		switch c := q[i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == ',' || c == '(' || c == ')':
			toks = append(toks, q[i:i+1])
			i++
		case c == '"' || (c == '-' || c == '+') && i+1 < len(q) && q[i+1] == '"':
			start := i
			if c != '"' {
				i++ // -"phrase" and +"phrase"
			}
			j := strings.IndexByte(q[i+1:], '"')
			if j < 0 {
				j = len(q) - i - 1
			}
			toks = append(toks, q[start:min(i+j+2, len(q))])
			i += j + 2
		default:
			j := i
			for j < len(q) && !strings.ContainsRune(" \t\n\r,()\"", rune(q[j])) {
				j++
			}
			toks = append(toks, q[i:j])
			i = j
		}
	}
	return toks
}

func parseAny(toks []string, i int) (*textQuery, int) {
	q := &textQuery{}
	all := textAll{}
	for i < len(toks) {
		switch t := toks[i]; t {
		case ",":
			q.any = append(q.any, all)
			all = textAll{}
			i++
		case ")":
			q.any = append(q.any, all)
			return q, i + 1
		case "(":
			g, next := parseAny(toks, i+1)
			all.terms = append(all.terms, textTerm{group: g})
			i = next
		default:
			term := textTerm{}
			if strings.HasPrefix(t, "-") && len(t) > 1 {
				term.not, t = true, t[1:]
			} else if strings.HasPrefix(t, "+") && len(t) > 1 {
				t = t[1:]
			}
			if t == "(" || (len(t) > 0 && t[0] == '(') {
				t = strings.TrimPrefix(t, "(")
			}
			term.phrase = words(strings.Trim(t, `"`))
			if len(term.phrase) > 0 {
				all.terms = append(all.terms, term)
			}
			i++
		}
	}
	q.any = append(q.any, all)
	return q, i
}

// match reports whether the words of the fields match q.
func (q *textQuery) match(fields [][]string) bool {
	for _, all := range q.any {
		if len(all.terms) > 0 && all.match(fields) {
			return true
		}
	}
	return false
}

func (a textAll) match(fields [][]string) bool {
	positive := false
	for _, t := range a.terms {
		var found bool
		if t.group != nil {
			found = t.group.match(fields)
		} else {
			found = containsPhrase(fields, t.phrase)
		}
		if found == t.not {
			return false
		}
		positive = positive || !t.not
	}
	return positive
}

// containsPhrase reports whether one field holds the words of phrase in a
// row.
func containsPhrase(fields [][]string, phrase []string) bool {
	for _, f := range fields {
		for i := 0; i+len(phrase) <= len(f); i++ {
			match := true
			for j, w := range phrase {
				if f[i+j] != w {
					match = false
					break
				}
			}
			if match {
				return true
			}
		}
	}
	return false
}

// words splits s into lower-case words of letters and digits.
func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}
