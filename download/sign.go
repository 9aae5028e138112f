package download

import (
	"context"
	"fmt"
	"maps"

	"github.com/stacq/stacq/internal/redact"
	"github.com/stacq/stacq/stac"
)

// A Signer turns an asset href into one that grants access by itself,
// such as a blob URL with a SAS token. Sign returns hrefs it does not
// sign unchanged. It is called from several goroutines at once.
type Signer interface {
	Sign(ctx context.Context, item *stac.Item, href string) (string, error)
}

// A Renewer is a Signer whose signatures can be refused before their
// stated expiry (revoked, clock skew). After the signed href refused was
// refused (HTTP 403), the downloader calls Renew once for href: it signs
// href afresh, with a new signature unless one replaced that of refused
// already (concurrent transfers refused together share one renewal).
type Renewer interface {
	Signer
	Renew(ctx context.Context, item *stac.Item, href, refused string) (string, error)
}

// SignItem returns a copy of item whose asset hrefs are signed by s, as
// pystac-client's modifier does for searches (`stacq search --signer`).
// item itself is not changed.
func SignItem(ctx context.Context, s Signer, item *stac.Item) (*stac.Item, error) {
	out := *item
	out.Assets = make(map[string]*stac.Asset, len(item.Assets))
	for key, a := range item.Assets {
		if a == nil {
			out.Assets[key] = nil
			continue
		}
		signed, err := s.Sign(ctx, item, a.Href)
		if err != nil {
			return nil, fmt.Errorf("sign asset %s of item %s: %w", key, item.ID, err)
		}
		cp := *a
		cp.Href = signed
		out.Assets[key] = &cp
	}
	return &out, nil
}

// copyWithHrefs returns a copy of item whose assets named in hrefs have
// those hrefs instead; the others are shared with item.
func copyWithHrefs(item *stac.Item, hrefs map[string]string) *stac.Item {
	out := *item
	out.Assets = maps.Clone(item.Assets)
	for key, href := range hrefs {
		if a := out.Assets[key]; a != nil {
			cp := *a
			cp.Href = href
			out.Assets[key] = &cp
		}
	}
	return &out
}

// redactedHref is href fit for messages: credentials in its query masked.
func redactedHref(href string) string { return redact.URL(href) }
