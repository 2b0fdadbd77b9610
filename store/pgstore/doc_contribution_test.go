package pgstore

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/medsettle/medsettle/engine"
)

// contributionPolicy is goldenPolicy with seed 003's contribution section
// (380.00; DESTITUTE full, MINIMUM_LIVING 340.00, MONITORED 190.00).
func contributionPolicy() *engine.Policy {
	p := goldenPolicy()
	p.Contribution = &engine.Contribution{Amount: engine.MustMoney("380"), Subsidies: []engine.Subsidy{
		{Category: engine.CategoryDestitute, Full: true},
		{Category: engine.CategoryMinimumLiving, Amount: engine.MustMoney("340")},
		{Category: engine.CategoryMonitored, Amount: engine.MustMoney("190")},
	}}
	return p
}

// TestStoredContribution: a policy's contribution section is written as
// its own object and reads back exactly; a policy without one is written
// without the key (the golden documents of TestGoldenPolicy, written
// before the section existed, read as policies without one).
func TestStoredContribution(t *testing.T) {
	want := contributionPolicy()
	doc, err := encodePolicy(want)
	if err != nil {
		t.Fatal(err)
	}
	const section = `"Contribution":{"Amount":"380","Subsidies":[{"Category":2,"Full":true,"Amount":"0"},` +
		`{"Category":3,"Full":false,"Amount":"340"},{"Category":4,"Full":false,"Amount":"190"}]}`
	if !bytes.Contains(doc, []byte(section)) {
		t.Errorf("the stored policy does not hold %s:\n%s", section, doc)
	}
	got, err := decodePolicy(doc)
	if err != nil {
		t.Fatal(err)
	}
	same(t, "a policy with a contribution section", got, want)

	without, err := encodePolicy(goldenPolicy())
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(without, []byte("Contribution")) {
		t.Errorf("a policy without a contribution section is stored with the key:\n%s", without)
	}
	old, err := decodePolicy(golden(t, "policy_v1.json", nil, false))
	if err != nil {
		t.Fatal(err)
	}
	if old.Contribution != nil {
		t.Errorf("a document without the key reads as contribution %+v", old.Contribution)
	}
}

// TestStoredContributionRefused: a stored contribution section missing a
// field, or naming an unknown category, is refused as engine.ErrInvariant.
func TestStoredContributionRefused(t *testing.T) {
	doc, err := encodePolicy(contributionPolicy())
	if err != nil {
		t.Fatal(err)
	}
	change := func(f func(c map[string]any)) []byte {
		var m map[string]any
		if err := json.Unmarshal(doc, &m); err != nil {
			t.Fatal(err)
		}
		f(m["Contribution"].(map[string]any))
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	subsidy := func(c map[string]any, i int) map[string]any { return c["Subsidies"].([]any)[i].(map[string]any) }
	cases := map[string][]byte{
		"without Amount":            change(func(c map[string]any) { delete(c, "Amount") }),
		"without Subsidies":         change(func(c map[string]any) { delete(c, "Subsidies") }),
		"a subsidy without Full":    change(func(c map[string]any) { delete(subsidy(c, 0), "Full") }),
		"a subsidy without Amount":  change(func(c map[string]any) { delete(subsidy(c, 1), "Amount") }),
		"an unknown category":       change(func(c map[string]any) { subsidy(c, 2)["Category"] = 6 }),
		"an amount that is no text": change(func(c map[string]any) { c["Amount"] = 380 }),
	}
	for name, doc := range cases {
		if _, err := decodePolicy(doc); !errors.Is(err, engine.ErrInvariant) {
			t.Errorf("%s: %v, want engine.ErrInvariant", name, err)
		}
	}
}
