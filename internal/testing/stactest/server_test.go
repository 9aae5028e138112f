package stactest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

type page struct {
	Features []struct {
		ID string `json:"id"`
	} `json:"features"`
	Links []struct {
		Rel    string          `json:"rel"`
		Href   string          `json:"href"`
		Method string          `json:"method"`
		Body   json.RawMessage `json:"body"`
		Merge  bool            `json:"merge"`
	} `json:"links"`
	NumberMatched int `json:"numberMatched"`
}

func get(t *testing.T, req *http.Request) page {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("%s %s: status %d", req.Method, req.URL, resp.StatusCode)
	}
	var p page
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPagingWalksEveryItemOnce follows next links by hand, GET and POST.
func TestPagingWalksEveryItemOnce(t *testing.T) {
	for _, style := range []string{"GET", PostMerge, PostFull} {
		t.Run(style, func(t *testing.T) {
			s := New(Options{Items: 95, PostPaging: style})
			defer s.Close()
			seen := map[string]bool{}
			var req *http.Request
			if style == "GET" {
				req, _ = http.NewRequest("GET", s.RootURL()+"/search?limit=10", nil)
			} else {
				req, _ = http.NewRequest("POST", s.RootURL()+"/search", strings.NewReader(`{"limit":10}`))
			}
			body := map[string]any{"limit": 10}
			for pages := 0; ; pages++ {
				p := get(t, req)
				for _, f := range p.Features {
					if seen[f.ID] {
						t.Fatalf("item %s twice", f.ID)
					}
					seen[f.ID] = true
				}
				var next *http.Request
				for _, l := range p.Links {
					if l.Rel != "next" {
						continue
					}
					if l.Method == "POST" {
						var nb map[string]any
						json.Unmarshal(l.Body, &nb)
						if l.Merge {
							for k, v := range nb {
								body[k] = v
							}
							nb = body
						}
						b, _ := json.Marshal(nb)
						next, _ = http.NewRequest("POST", l.Href, strings.NewReader(string(b)))
					} else {
						next, _ = http.NewRequest("GET", l.Href, nil)
					}
				}
				if next == nil {
					if pages != 9 {
						t.Errorf("pages = %d, want 10", pages+1)
					}
					break
				}
				req = next
			}
			if len(seen) != 95 {
				t.Errorf("items = %d, want 95", len(seen))
			}
		})
	}
}

func TestFilters(t *testing.T) {
	s := New(Options{Items: 48, Collections: []string{"a", "b"}})
	defer s.Close()
	q := url.Values{"collections": {"b"}, "limit": {"100"},
		"datetime": {Epoch.Format(time.RFC3339) + "/" + Epoch.Add(9*time.Hour).Format(time.RFC3339)}}
	req, _ := http.NewRequest("GET", s.RootURL()+"/search?"+q.Encode(), nil)
	p := get(t, req)
	if len(p.Features) != 5 || p.NumberMatched != 5 {
		t.Errorf("got %d features, %d matched; want 5", len(p.Features), p.NumberMatched)
	}
}

func TestTokenEndpoint(t *testing.T) {
	s := New(Options{Auth: &Auth{ClientID: "id", ClientSecret: "secret", Style: "body"}})
	defer s.Close()
	resp, _ := http.Get(s.RootURL())
	if resp.StatusCode != 401 {
		t.Fatalf("no token: status %d, want 401", resp.StatusCode)
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {"id"}, "client_secret": {"secret"}}
	resp, err := http.PostForm(s.TokenURL(), form)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("token: %v %v", err, resp.StatusCode)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(resp.Body).Decode(&tok)
	req, _ := http.NewRequest("GET", s.RootURL(), nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	if resp, _ := http.DefaultClient.Do(req); resp.StatusCode != 200 {
		t.Fatalf("with token: status %d", resp.StatusCode)
	}
	s.RevokeTokens()
	if resp, _ := http.DefaultClient.Do(req); resp.StatusCode != 401 {
		t.Fatalf("revoked token: status %d, want 401", resp.StatusCode)
	}
	req, _ = http.NewRequest("POST", s.TokenURL(), strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("id", "secret")
	if resp, _ := http.DefaultClient.Do(req); resp.StatusCode != 401 {
		t.Fatalf("basic auth for a body client: status %d, want 401", resp.StatusCode)
	}
	if got := s.TokenRequests.Load(); got != 2 {
		t.Errorf("token requests = %d, want 2", got)
	}
}
