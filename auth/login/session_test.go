package login

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

func sampleSession() *Session {
	return &Session{
		Issuer:             "https://login.example.com/",
		ClientID:           "cli",
		TokenEndpoint:      "https://login.example.com/oauth/token",
		RevocationEndpoint: "https://login.example.com/oauth/revoke",
		Scopes:             []string{"openid", "offline_access"},
		AccessToken:        "secret-access-token",
		TokenType:          "Bearer",
		Expiry:             time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		RefreshToken:       "secret-refresh-token",
		IDToken:            "secret.id.token",
		LoggedIn:           time.Date(2026, 1, 2, 2, 4, 5, 0, time.UTC),
	}
}

func TestStoreSaveLoad(t *testing.T) {
	store := Store{Dir: filepath.Join(t.TempDir(), "stacq", "sessions")}
	want := sampleSession()
	if err := store.Save("planet", want); err != nil {
		t.Fatal(err)
	}
	got, err := store.Load("planet")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip:\n got %#v\nwant %#v", *got, *want)
	}
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(filepath.Join(store.Dir, "planet.json"))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("session file mode %v, want 0600", fi.Mode().Perm())
		}
		di, _ := os.Stat(store.Dir)
		if di.Mode().Perm() != 0o700 {
			t.Errorf("session dir mode %v, want 0700", di.Mode().Perm())
		}
	}
	// Saving again replaces the file and leaves no temporary file behind.
	want.RefreshToken = "rotated"
	if err := store.Save("planet", want); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(store.Dir)
	if len(entries) != 1 {
		t.Errorf("files after two saves: %v", entries)
	}
	if got, _ := store.Load("planet"); got.RefreshToken != "rotated" {
		t.Errorf("second save not read back")
	}
}

// TestStoreCrashLeftovers simulates a crash in the middle of a save: the
// process died after writing (part of) the temporary file and before the
// rename. The session still loads, the leftovers are not sessions, and
// the next save works.
func TestStoreCrashLeftovers(t *testing.T) {
	store := Store{Dir: t.TempDir()}
	old := sampleSession()
	if err := store.Save("planet", old); err != nil {
		t.Fatal(err)
	}
	for _, leftover := range []string{".planet.json.123456.tmp", ".planet.json.999.tmp"} {
		if err := os.WriteFile(filepath.Join(store.Dir, leftover), []byte(`{"issuer":"https://x","access_tok`), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	got, err := store.Load("planet")
	if err != nil || got.RefreshToken != old.RefreshToken {
		t.Fatalf("Load after a crash = %v, %v; want the last complete session", got, err)
	}
	if names, err := store.List(); err != nil || !reflect.DeepEqual(names, []string{"planet"}) {
		t.Errorf("List = %v, %v; leftovers must not count as sessions", names, err)
	}
	if err := store.Save("planet", old); err != nil {
		t.Errorf("Save after a crash: %v", err)
	}
}

func TestStoreLoadErrors(t *testing.T) {
	store := Store{Dir: t.TempDir()}
	_, err := store.Load("missing")
	var nle *NotLoggedInError
	if !errors.Is(err, ErrNotLoggedIn) || !errors.As(err, &nle) || nle.Name != "missing" {
		t.Errorf("missing session: err = %v", err)
	}
	for _, tc := range []struct{ name, content string }{
		{"truncated", `{"issuer":"https://x","client_id":"c","token_endpoint":"https://x/t","access_token":"secret-access-tok`},
		{"wrong type", `{"issuer":"https://x","client_id":"c","token_endpoint":"https://x/t","access_token":42}`},
		{"no token", `{"issuer":"https://x","client_id":"c","token_endpoint":"https://x/t"}`},
		{"empty", ``},
		{"array", `["secret-access-token"]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.WriteFile(filepath.Join(store.Dir, "bad.json"), []byte(tc.content), 0o600)
			_, err := store.Load("bad")
			if err == nil {
				t.Fatal("damaged session loaded")
			}
			if !strings.Contains(err.Error(), "stacq auth login") || strings.Contains(err.Error(), "secret") {
				t.Errorf("error %q must say to log in again and must not quote the file", err)
			}
		})
	}
}

func TestStoreNames(t *testing.T) {
	store := Store{Dir: t.TempDir()}
	for _, name := range []string{"", "../etc/passwd", "a/b", ".hidden", "-flag", strings.Repeat("x", 65), "with space"} {
		if err := store.Save(name, sampleSession()); err == nil {
			t.Errorf("Save(%q) accepted an unsafe name", name)
		}
		if _, err := store.Load(name); err == nil || errors.Is(err, ErrNotLoggedIn) {
			t.Errorf("Load(%q) = %v, want an invalid-name error", name, err)
		}
	}
	if err := (Store{}).Save("x", sampleSession()); err == nil {
		t.Error("a store without a directory must refuse to save")
	}
}

func TestStoreDeleteAndList(t *testing.T) {
	store := Store{Dir: filepath.Join(t.TempDir(), "none-yet")}
	if names, err := store.List(); err != nil || names != nil {
		t.Errorf("List of a missing dir = %v, %v", names, err)
	}
	for _, n := range []string{"zeta", "alpha"} {
		if err := store.Save(n, sampleSession()); err != nil {
			t.Fatal(err)
		}
	}
	if names, _ := store.List(); !reflect.DeepEqual(names, []string{"alpha", "zeta"}) {
		t.Errorf("List = %v", names)
	}
	if err := store.Delete("alpha"); err != nil {
		t.Fatal(err)
	}
	if err := store.Delete("alpha"); err != nil {
		t.Errorf("deleting a missing session: %v", err)
	}
	if _, err := store.Load("alpha"); !errors.Is(err, ErrNotLoggedIn) {
		t.Errorf("after Delete: %v", err)
	}
}

func TestSessionStringHidesTokens(t *testing.T) {
	s := sampleSession()
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		for _, v := range []any{s, *s} {
			if out := fmt.Sprintf(f, v); strings.Contains(out, "secret") {
				t.Errorf("%s of %T prints a token: %s", f, v, out)
			}
		}
	}
}

func TestSessionName(t *testing.T) {
	for in, want := range map[string]string{
		"planet":                             "planet",
		"https://login.planet.com/":          "login.planet.com",
		"https://kc.example.org/realms/main": "kc.example.org",
		"http://127.0.0.1:8080":              "127.0.0.1_8080",
		"https://user@host/?q":               "host",
		"":                                   "default",
		"../..":                              "default",
	} {
		got := SessionName(in)
		if got != want {
			t.Errorf("SessionName(%q) = %q, want %q", in, got, want)
		}
		if !validName.MatchString(got) {
			t.Errorf("SessionName(%q) = %q is not a valid name", in, got)
		}
	}
}

func TestDefaultStore(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", "/tmp/cfg")
	t.Setenv("HOME", "/tmp/home")
	t.Setenv("AppData", "/tmp/appdata")
	store, err := DefaultStore()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(store.Dir, filepath.Join("stacq", "sessions")) {
		t.Errorf("DefaultStore().Dir = %s", store.Dir)
	}
}
