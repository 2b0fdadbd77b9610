package national

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"unicode/utf8"
)

// Config limits.
const (
	// MaxInstitutions is the most credentials one config file lists.
	MaxInstitutions = 10000
	// MaxCredentialField is the longest fixmedins_code, institution_id,
	// key or secret, in bytes.
	MaxCredentialField = 128
	// MinSecretLen is the secret length below which Check refuses: a
	// shorter secret is easy to guess.
	MinSecretLen = 16
	// maxConfigBytes is the largest config file read.
	maxConfigBytes = 8 << 20
)

// Scheme names.
const (
	SchemeXTif = "x-tif"
	SchemeCSB  = "csb"
)

// Check reports what is wrong with a config: a scheme other than x-tif
// and csb, an area that is not six digits, no institutions, and any
// credential with an empty or over-long field, a secret shorter than
// MinSecretLen, or a fixmedins_code or key another credential has. Errors
// name the entry, never a secret.
func (c Config) Check() error {
	if c.Scheme != SchemeXTif && c.Scheme != SchemeCSB {
		return fmt.Errorf("scheme is %q: it must be %q or %q", c.Scheme, SchemeXTif, SchemeCSB)
	}
	if !digits(c.Area, 6) {
		return fmt.Errorf("area is %q: it must be the six-digit area code (admdvs) such as \"610300\"", c.Area)
	}
	if c.ReplayCapacity != 0 && (c.ReplayCapacity < MinReplayCapacity || c.ReplayCapacity > MaxReplayCapacity) {
		return fmt.Errorf("replay_capacity is %d: give requests per second × 600, between %d and %d (or leave it out for %d)",
			c.ReplayCapacity, MinReplayCapacity, MaxReplayCapacity, DefaultReplayCapacity)
	}
	if len(c.Institutions) == 0 {
		return fmt.Errorf("institutions is empty: list each institution's fixmedins_code, institution_id, key and secret")
	}
	if len(c.Institutions) > MaxInstitutions {
		return fmt.Errorf("institutions lists %d credentials, more than %d", len(c.Institutions), MaxInstitutions)
	}
	codes := map[string]int{}
	keys := map[string]int{}
	for i, cr := range c.Institutions {
		for _, f := range []struct{ name, value string }{
			{"fixmedins_code", cr.FixmedinsCode}, {"institution_id", cr.InstitutionID}, {"key", cr.Key}, {"secret", cr.Secret},
		} {
			switch {
			case f.value == "":
				return fmt.Errorf("institutions[%d] has no %s", i, f.name)
			case len(f.value) > MaxCredentialField:
				return fmt.Errorf("institutions[%d].%s is %d bytes, more than %d", i, f.name, len(f.value), MaxCredentialField)
			case !utf8.ValidString(f.value) || !printable(f.value):
				return fmt.Errorf("institutions[%d].%s holds control characters or invalid UTF-8", i, f.name)
			}
		}
		if len(cr.Secret) < MinSecretLen {
			return fmt.Errorf("institutions[%d].secret is shorter than %d characters: use a random one (openssl rand -hex 24)", i, MinSecretLen)
		}
		if j, dup := codes[cr.FixmedinsCode]; dup {
			return fmt.Errorf("institutions[%d].fixmedins_code %q repeats institutions[%d]'s", i, cr.FixmedinsCode, j)
		}
		if j, dup := keys[cr.Key]; dup {
			return fmt.Errorf("institutions[%d].key repeats institutions[%d]'s", i, j)
		}
		codes[cr.FixmedinsCode], keys[cr.Key] = i, i
	}
	return nil
}

// LoadConfig reads and checks a config file (GATEWAY.md
// "Authentication"). Unknown fields are refused, so that a misspelt one
// is not silently ignored.
func LoadConfig(path string) (Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read national config: %w", err)
	}
	if len(raw) > maxConfigBytes {
		return Config{}, fmt.Errorf("national config %s is %d bytes, more than %d", path, len(raw), maxConfigBytes)
	}
	var c Config
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("national config %s is not {\"scheme\": …, \"area\": …, \"institutions\": [{\"fixmedins_code\", \"institution_id\", \"key\", \"secret\"}]}: %w", path, err)
	}
	if dec.More() {
		return Config{}, fmt.Errorf("national config %s holds more than one JSON value", path)
	}
	if err := c.Check(); err != nil {
		return Config{}, fmt.Errorf("national config %s: %w", path, err)
	}
	return c, nil
}

// digits reports whether s is n ASCII digits.
func digits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// printable reports whether s holds no control characters.
func printable(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}
