package national

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/medsettle/medsettle/api"
	"github.com/medsettle/medsettle/store/memstore"
)

// TestConfigCheck refuses every malformed config, naming the entry and
// never the secret.
func TestConfigCheck(t *testing.T) {
	if err := servedConfig(SchemeXTif).Check(); err != nil {
		t.Fatal(err)
	}
	if err := servedConfig(SchemeCSB).Check(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.Scheme = "X-TIF" }, `scheme is "X-TIF": it must be "x-tif" or "csb"`},
		{func(c *Config) { c.Scheme = "" }, `scheme is ""`},
		{func(c *Config) { c.Area = "61030" }, `area is "61030": it must be the six-digit area code`},
		{func(c *Config) { c.Area = "61030a" }, `area is "61030a"`},
		{func(c *Config) { c.Institutions = nil }, "institutions is empty"},
		{func(c *Config) { c.Institutions[1].FixmedinsCode = "" }, "institutions[1] has no fixmedins_code"},
		{func(c *Config) { c.Institutions[0].InstitutionID = "" }, "institutions[0] has no institution_id"},
		{func(c *Config) { c.Institutions[1].Key = "" }, "institutions[1] has no key"},
		{func(c *Config) { c.Institutions[1].Secret = "" }, "institutions[1] has no secret"},
		{func(c *Config) { c.Institutions[1].Secret = "fifteen-chars-x" }, "institutions[1].secret is shorter than 16 characters"},
		{func(c *Config) { c.Institutions[1].Secret = strings.Repeat("s", 129) }, "institutions[1].secret is 129 bytes, more than 128"},
		{func(c *Config) { c.Institutions[1].Key = "a\nb" }, "institutions[1].key holds control characters"},
		{func(c *Config) { c.Institutions[1].FixmedinsCode = c.Institutions[0].FixmedinsCode }, `institutions[1].fixmedins_code "H61030000001" repeats institutions[0]'s`},
		{func(c *Config) { c.Institutions[1].Key = c.Institutions[0].Key }, "institutions[1].key repeats institutions[0]'s"},
		{func(c *Config) { c.ReplayCapacity = MinReplayCapacity - 1 }, "replay_capacity is 999: give requests per second × 600"},
		{func(c *Config) { c.ReplayCapacity = MaxReplayCapacity + 1 }, "replay_capacity is 67108865"},
		{func(c *Config) { c.ReplayCapacity = -1 }, "replay_capacity is -1"},
	} {
		cfg := servedConfig(SchemeXTif)
		cfg.Institutions = append([]Credential(nil), cfg.Institutions...)
		c.edit(&cfg)
		err := cfg.Check()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v, want an error containing %q", err, c.want)
			continue
		}
		for _, cr := range cfg.Institutions {
			if len(cr.Secret) >= 8 && strings.Contains(err.Error(), cr.Secret) {
				t.Errorf("%v names a secret", err)
			}
		}
		if _, err := New(cfg, nil, memstore.New(), memstore.New()); err == nil {
			t.Errorf("New took a config Check refuses (%s)", c.want)
		}
	}
	st := memstore.New()
	if _, err := New(servedConfig(SchemeXTif), nil, st, st); err == nil || !strings.Contains(err.Error(), "required") {
		t.Fatalf("New without services: %v", err)
	}
	for i, o := range []Option{WithReplayCapacity(0), WithMaxBodyBytes(0), WithMaxInFlight(0, time.Second), WithRequestTimeout(0), WithClock(nil)} {
		if _, err := New(servedConfig(SchemeXTif), fakeServices{}, st, st, o); err == nil || !strings.Contains(err.Error(), "limits must be positive") {
			t.Errorf("option %d: %v", i, err)
		}
	}
}

// TestLoadConfig reads a file, refusing unknown fields and trailing data.
func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := `{"scheme":"csb","area":"320100","institutions":[{"fixmedins_code":"H32010000001","institution_id":"NJ-H1","key":"ak","secret":"0123456789abcdef"}]}`
	c, err := LoadConfig(write("good.json", good))
	if err != nil || c.Scheme != "csb" || c.Area != "320100" || len(c.Institutions) != 1 || c.Institutions[0].InstitutionID != "NJ-H1" {
		t.Fatalf("%+v %v", c, err)
	}
	for name, body := range map[string]string{
		"unknown.json":  strings.Replace(good, `"area"`, `"areas":"x","area"`, 1),
		"trailing.json": good + `{}`,
		"broken.json":   good[:20],
		"bad.json":      strings.Replace(good, `"csb"`, `"hmac"`, 1),
	} {
		if _, err := LoadConfig(write(name, body)); err == nil || strings.Contains(err.Error(), "0123456789abcdef") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := LoadConfig(filepath.Join(dir, "none.json")); err == nil {
		t.Error("a missing file was read")
	}
}

// fakeServices is a Services that New accepts and nothing calls.
type fakeServices struct{ Services }

// TestConfigReplayCapacity: replay_capacity sizes the replay cache; left
// out, the default; an option still overrides both.
func TestConfigReplayCapacity(t *testing.T) {
	st := memstore.New()
	_, _, local := api.NewServerWithLocal(api.Config{Store: st})
	for _, c := range []struct {
		capacity int
		opts     []Option
		want     int
	}{
		{0, nil, DefaultReplayCapacity},
		{5000, nil, 5000},
		{MaxReplayCapacity, nil, MaxReplayCapacity},
		{5000, []Option{WithReplayCapacity(7)}, 7},
	} {
		cfg := servedConfig(SchemeXTif)
		cfg.ReplayCapacity = c.capacity
		g, err := New(cfg, local, st, st, c.opts...)
		if err != nil {
			t.Fatalf("replay_capacity %d: %v", c.capacity, err)
		}
		if g.replay.capacity != int64(c.want) {
			t.Errorf("replay_capacity %d with %d options: the cache holds %d, want %d", c.capacity, len(c.opts), g.replay.capacity, c.want)
		}
	}
}
