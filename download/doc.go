// Package download downloads the assets of STAC items to disk: resumable,
// verified, concurrent, and with each provider's access scheme applied per
// destination. It works on any iter.Seq2[*stac.Item, error]: a
// stac.Client's Search, ReadItems over a file, or the caller's own.
//
// A Downloader (New, then Run) selects assets (Selection: key patterns,
// roles, media types, alternate hrefs), places them with a Layout
// template under a directory, transfers up to Options.Concurrency files
// at once (Options.PerHost per host), and reports progress through
// Options.Progress and a Summary with one Result per asset. Each file is
// written to NAME.part, resumed with Range and If-Range after a cut,
// checked against the item's file:size and file:checksum (a multihash:
// sha2-256, sha2-512, md5, sha1, sha3, blake2b and more), and renamed to
// NAME only then. A complete file already at its destination is not
// requested again. See Downloader.Run for the rules.
//
// Access is decided per URL:
//
//   - A Router gives an authenticating *http.Client (the API's, or a
//     CDSE one from CDSETokenSource) only to the origins and https hosts
//     it was routed to; every other host, every presigned URL
//     (IsPresigned) and every redirect elsewhere gets a plain client, and
//     a redirect from https to http is refused.
//   - A Signer signs hrefs first: PlanetaryComputer appends SAS tokens
//     from the Planetary Computer's SAS API, cached per collection and
//     renewed after a 403. SignItem applies a Signer to a whole item, for
//     search output.
//   - EarthDaily returns presigned hrefs when searches carry the
//     SignedAssetURLsHeader; they need nothing more.
//   - s3:// hrefs go through an ObjectGetter: the s3 subpackage provides
//     one over the AWS SDK.
//
// Credentials never appear in errors: URLs are shown with their
// signatures and tokens masked.
package download

// SignedAssetURLsHeader, with the value "True", asks EarthDaily's STAC API
// to answer with presigned asset hrefs (https URLs valid for a while)
// instead of s3:// ones, as EarthDaily's own client does by default. Send
// it with the searches: stac.WithHeader(SignedAssetURLsHeader, "True").
// Other APIs ignore it.
const SignedAssetURLsHeader = "X-Signed-Asset-Urls"
