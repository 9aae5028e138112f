package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strings"
)

// fetchAll is the transfer floor: the same pages stacq asks for, fetched
// back to back in one process with Go's net/http over one kept-alive
// connection, following next links and discarding the bodies. Nothing is
// decoded beyond the page's own links, which come after the features.
func fetchAll(ctx context.Context, hc *http.Client, c benchCase, url string) (pages int, bytesRead int64, err error) {
	if c.Cmd != "items" && c.Cmd != "crawl" {
		return fetchListing(ctx, hc, c, url, "")
	}
	// A collection's items, or every collection's for a crawl, one after
	// the other.
	for i := range max(c.Collections, 1) {
		id := collection
		if i > 0 {
			id = fmt.Sprintf("%s-%02d", collection, i)
		}
		p, n, err := fetchListing(ctx, hc, c, url, id)
		pages, bytesRead = pages+p, bytesRead+n
		if err != nil {
			return pages, bytesRead, err
		}
	}
	return pages, bytesRead, nil
}

// fetchListing fetches every page of a search, or with items set of the
// items of that collection.
func fetchListing(ctx context.Context, hc *http.Client, c benchCase, url, items string) (pages int, bytesRead int64, err error) {
	method := c.Method
	body := map[string]any{"collections": []string{collection}, "limit": c.Page}
	if c.Datetime != "" {
		body["datetime"] = c.Datetime
	}
	href := url + "/search"
	if items != "" {
		method, href = http.MethodGet, fmt.Sprintf("%s/collections/%s/items?limit=%d", url, items, c.Page)
	} else if method == http.MethodGet {
		href += fmt.Sprintf("?collections=%s&limit=%d", collection, c.Page)
		if c.Datetime != "" {
			href += "&datetime=" + c.Datetime
		}
	}
	var buf bytes.Buffer
	for href != "" {
		var rb io.Reader
		if method == http.MethodPost {
			b, _ := json.Marshal(body)
			rb = bytes.NewReader(b)
		}
		req, err := http.NewRequestWithContext(ctx, method, href, rb)
		if err != nil {
			return pages, bytesRead, err
		}
		if rb != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := hc.Do(req)
		if err != nil {
			return pages, bytesRead, err
		}
		buf.Reset()
		_, err = buf.ReadFrom(resp.Body)
		resp.Body.Close()
		if err != nil {
			return pages, bytesRead, err
		}
		if resp.StatusCode != http.StatusOK {
			return pages, bytesRead, fmt.Errorf("%s %s: %s", method, href, resp.Status)
		}
		pages++
		bytesRead += int64(buf.Len())
		next, err := nextLink(buf.Bytes())
		if err != nil {
			return pages, bytesRead, err
		}
		href = ""
		if next != nil {
			href, method = next.Href, strings.ToUpper(next.Method)
			if method == "" {
				method = http.MethodGet
			}
			if method == http.MethodPost {
				var nb map[string]any
				if err := json.Unmarshal(next.Body, &nb); err != nil {
					return pages, bytesRead, fmt.Errorf("next link body: %w", err)
				}
				if next.Merge {
					maps.Copy(body, nb)
				} else {
					body = nb
				}
			}
		}
	}
	return pages, bytesRead, nil
}

type rawLink struct {
	Rel    string          `json:"rel"`
	Href   string          `json:"href"`
	Method string          `json:"method"`
	Body   json.RawMessage `json:"body"`
	Merge  bool            `json:"merge"`
}

// nextLink finds the page's next link: stactest writes the page's links
// after the features, so the last "links" member is the page's.
func nextLink(page []byte) (*rawLink, error) {
	i := bytes.LastIndex(page, []byte(`"links":`))
	if i < 0 {
		return nil, nil
	}
	var links []rawLink
	dec := json.NewDecoder(bytes.NewReader(page[i+len(`"links":`):]))
	if err := dec.Decode(&links); err != nil {
		return nil, fmt.Errorf("page links: %w", err)
	}
	for i := range links {
		if links[i].Rel == "next" {
			return &links[i], nil
		}
	}
	return nil, nil
}
