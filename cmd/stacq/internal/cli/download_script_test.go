package cli_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/stacq/stacq/internal/testing/assettest"
)

// TestDownloadScripts runs the scripts of testdata/script-download:
// `stacq download` against local hosts of each access scheme. Each script
// gets, in $WORK, item files whose hrefs point at them:
//
//	items.ndjson   two Sentinel-2-like items on $ASSETS (checksums, sizes)
//	items.geojson  the same as a FeatureCollection
//	bad.ndjson     an item whose file does not match its checksum
//	slow.ndjson    one 2 MiB file from $SLOW, sent 32 KiB every 20 ms
//	sas.ndjson     Planetary-Computer-like items on $BLOB, which wants SAS tokens
//	               from $BLOB_SAS (host $BLOB_HOST); $PCAPI serves them as an API
//	s3.ndjson      s3:// hrefs on $S3 (private/cut/big.bin, public/pub.tif)
//	cdse.ndjson    a product on $CDSE, which wants a token from $CDSE_TOKEN_URL
//	               (user me@example.com, password hunter2)
//	items.parquet  the magic bytes of a stac-geoparquet file
//
// and $AUTHAPI, a STAC API behind the bearer token cli-download-token whose
// items have assets on its own host, on $FOREIGN, and behind a redirect
// from its host to $FOREIGN.
func TestDownloadScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:   "../../../../testdata/script-download",
		Setup: setupDownload,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"assetlog":  cmdAssetLog,
			"s3log":     cmdS3Log,
			"features":  cmdFeatures,  // script_test.go
			"plainmode": cmdPlainMode, // script_test.go
		},
	})
}

// band is a small file with known content, and an asset pointing at it.
type band struct {
	key, path, content, role, mediaType string
	checksum                            string // "" computes the right one
}

func setupDownload(env *testscript.Env) error {
	hosts := map[string]*assettest.Server{}
	start := func(name string, o assettest.Options) *assettest.Server {
		s := assettest.New(o)
		env.Defer(s.Close)
		hosts[name] = s
		env.Values[name] = s
		env.Setenv(name, s.URL)
		return s
	}
	assets := start("ASSETS", assettest.Options{})
	slow := start("SLOW", assettest.Options{SlowBody: 20 * time.Millisecond})
	foreign := start("FOREIGN", assettest.Options{})
	authAPI := start("AUTHAPI", assettest.Options{Bearer: "cli-download-token"})
	blob := start("BLOB", assettest.Options{SAS: true})
	cdse := start("CDSE", assettest.Options{Bearer: "cdse-access-1"})

	bands := []band{
		{"blue", "/s2/T31UDQ/B02.tif", "blue band\n", "data", "image/tiff; application=geotiff", ""},
		{"green", "/s2/T31UDQ/B03.tif", "green band\n", "data", "image/tiff; application=geotiff", ""},
		{"red", "/s2/T31UDQ/B04.tif", "red band\n", "data", "image/tiff; application=geotiff", ""},
		{"thumbnail", "/s2/T31UDQ/preview.jpg", "jpeg\n", "thumbnail", "image/jpeg", ""},
	}
	for _, b := range bands {
		assets.Add(b.path, assettest.File{Data: []byte(b.content)})
	}
	second := []band{{"red", "/s2/T31UDR/B04.tif", "red of the second\n", "data", "image/tiff; application=geotiff", ""}}
	assets.Add(second[0].path, assettest.File{Data: []byte(second[0].content)})
	items := []string{
		feature("S2A_T31UDQ_20230601", "sentinel-2-l2a", "2023-06-01T10:30:00Z", assets.URL, bands),
		feature("S2A_T31UDR_20230702", "sentinel-2-l2a", "2023-07-02T10:30:00Z", assets.URL, second),
	}
	assets.Add("/bad/B04.tif", assettest.File{Data: []byte("what the server has\n")})
	bad := feature("S2A_BAD", "sentinel-2-l2a", "2023-06-01T10:30:00Z", assets.URL,
		[]band{{"red", "/bad/B04.tif", "what the item says!\n", "data", "image/tiff", ""}})

	big := assettest.Pattern(2 << 20)
	slow.Add("/slow/big.bin", assettest.File{Size: int64(len(big))})
	slowItem := feature("SLOW_1", "slow", "2023-06-01T10:30:00Z", slow.URL,
		[]band{{"data", "/slow/big.bin", string(big), "data", "application/octet-stream", ""}})

	authAPI.Add("/files/own.tif", assettest.File{Data: []byte("own\n")})
	foreign.Add("/f/foreign.tif", assettest.File{Data: []byte("foreign\n")})
	foreign.Add("/f/redirected.tif", assettest.File{Data: []byte("redirected\n")})
	authAPI.Redirect("/files/elsewhere.tif", foreign.URL+"/f/redirected.tif")
	env.Setenv("AUTHAPI", authAPI.SetItems(
		featureHrefs("AUTH_1", "private", map[string]string{
			"own":       authAPI.URL + "/files/own.tif",
			"foreign":   foreign.URL + "/f/foreign.tif",
			"elsewhere": authAPI.URL + "/files/elsewhere.tif",
		})))

	var sas []band
	for _, k := range []string{"B02", "B03", "B04"} {
		b := band{k, "/sentinel2-l2/" + k + ".tif", "sas " + k + "\n", "data", "image/tiff", ""}
		blob.Add(b.path, assettest.File{Data: []byte(b.content)})
		sas = append(sas, b)
	}
	blobURL, _ := url.Parse(blob.URL)
	env.Setenv("BLOB_SAS", blob.SASURL())
	env.Setenv("BLOB_HOST", blobURL.Host)
	sasItem := feature("PC_1", "sentinel-2-l2a", "2023-06-01T10:30:00Z", blob.URL, sas)
	pcAPI := start("PCAPI", assettest.Options{})
	env.Setenv("PCAPI", pcAPI.SetItems(sasItem))

	s3srv, err := assettest.NewS3(map[string][]byte{"private/cut/big.bin": assettest.Pattern(1 << 20), "public/pub.tif": []byte("public\n")})
	if err != nil {
		return err
	}
	env.Defer(s3srv.Close)
	env.Values["S3"] = s3srv
	env.Setenv("S3", s3srv.URL)
	s3Item := featureHrefs("S3_1", "s3", map[string]string{"big": "s3://private/cut/big.bin", "pub": "s3://public/pub.tif"})

	cdse.Add("/odata/v1/Products(abc)/$value", assettest.File{Data: []byte("zip of a product\n")})
	cdseItem := featureHrefs("S2B_MSIL2A_CDSE", "sentinel-2-l2a", map[string]string{"PRODUCT": cdse.URL + "/odata/v1/Products(abc)/$value"})
	kc := &keycloakServer{}
	kcSrv := httptest.NewServer(kc)
	env.Defer(kcSrv.Close)
	env.Values["keycloak"] = kc
	env.Setenv("CDSE_TOKEN_URL", kcSrv.URL+"/auth/realms/CDSE/protocol/openid-connect/token")

	files := map[string]string{
		"items.ndjson":  strings.Join(items, "\n") + "\n",
		"items.geojson": `{"type":"FeatureCollection","features":[` + strings.Join(items, ",") + `]}`,
		"bad.ndjson":    bad + "\n",
		"slow.ndjson":   slowItem + "\n",
		"sas.ndjson":    sasItem + "\n",
		"s3.ndjson":     s3Item + "\n",
		"cdse.ndjson":   cdseItem + "\n",
		"items.parquet": "PAR1\x00\x00\x00\x00",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(env.WorkDir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	// No credentials of the user's may leak in: a fresh home, no AWS
	// configuration, no instance metadata.
	env.Setenv("HOME", env.WorkDir+"/home")
	env.Setenv("STACQ_CACHE_DIR", env.WorkDir+"/cache")
	env.Setenv("XDG_CACHE_HOME", env.WorkDir+"/xdg-cache")
	env.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	env.Setenv("AWS_CONFIG_FILE", env.WorkDir+"/no-aws-config")
	env.Setenv("AWS_SHARED_CREDENTIALS_FILE", env.WorkDir+"/no-aws-credentials")
	return nil
}

// feature is an item whose assets are bands on host, with their
// file:size and file:checksum.
func feature(id, collection, datetime, host string, bands []band) string {
	assets := map[string]any{}
	for _, b := range bands {
		sum := sha256.Sum256([]byte(b.content))
		assets[b.key] = map[string]any{
			"href": host + b.path, "type": b.mediaType, "roles": []string{b.role},
			"file:size": len(b.content), "file:checksum": "1220" + hex.EncodeToString(sum[:]),
		}
	}
	return itemJSON(id, collection, datetime, assets)
}

// featureHrefs is an item whose assets are the hrefs given, nothing more.
func featureHrefs(id, collection string, hrefs map[string]string) string {
	assets := map[string]any{}
	for k, h := range hrefs {
		assets[k] = map[string]any{"href": h, "roles": []string{"data"}}
	}
	return itemJSON(id, collection, "2023-06-01T10:30:00Z", assets)
}

func itemJSON(id, collection, datetime string, assets map[string]any) string {
	b, err := json.Marshal(map[string]any{
		"type": "Feature", "stac_version": "1.0.0", "id": id, "collection": collection,
		"geometry": map[string]any{"type": "Point", "coordinates": []float64{2.3, 48.8}}, "bbox": []float64{2.3, 48.8, 2.3, 48.8},
		"properties": map[string]any{"datetime": datetime}, "links": []any{}, "assets": assets,
	}, json.Deterministic(true))
	if err != nil {
		panic(err)
	}
	return string(b)
}

// cmdAssetLog prints what host NAME saw, one request per line
// ("GET /path auth=... range=... if-range=yes|no signed=yes|no"), then
// "tokens N" (SAS token requests). signed says the query held a
// signature.
func cmdAssetLog(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 || neg {
		ts.Fatalf("usage: assetlog NAME")
	}
	s := scriptValue[*assettest.Server](ts, args[0], "asset host") // script_test.go
	for _, r := range s.Log() {
		ifRange := "no"
		if r.IfRange != "" {
			ifRange = "yes"
		}
		signed := "no"
		if q, _ := url.ParseQuery(r.RawQuery); q.Has("sig") || q.Has("X-Amz-Signature") {
			signed = "yes"
		}
		fmt.Fprintf(ts.Stdout(), "%s %s auth=%s range=%s if-range=%s signed=%s\n", r.Method, r.Path, r.Authorization, r.Range, ifRange, signed)
	}
	fmt.Fprintf(ts.Stdout(), "tokens %d\n", s.TokenRequests.Load())
}

// cmdS3Log prints what the S3 saw, sorted: "METHOD /bucket/key RANGE
// IF-MATCH REGION".
func cmdS3Log(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 0 || neg {
		ts.Fatalf("usage: s3log")
	}
	lines := ts.Value("S3").(*assettest.S3).Log()
	sort.Strings(lines)
	for _, l := range lines {
		fmt.Fprintln(ts.Stdout(), l)
	}
}

// keycloakServer is CDSE's identity server for the scripts: the password
// grant of the public client for me@example.com / hunter2.
type keycloakServer struct{ issued atomic.Int64 }

func (k *keycloakServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	w.Header().Set("Content-Type", "application/json")
	if form.Get("client_id") != "cdse-public" || form.Get("grant_type") != "password" ||
		form.Get("username") != "me@example.com" || form.Get("password") != "hunter2" {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":"invalid_grant","error_description":"Invalid user credentials"}`)
		return
	}
	n := k.issued.Add(1)
	fmt.Fprintf(w, `{"access_token":"cdse-access-1","expires_in":600,"refresh_token":"r%d","token_type":"Bearer"}`, n)
}
