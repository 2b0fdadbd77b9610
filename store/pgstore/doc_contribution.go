package pgstore

import (
	"fmt"

	"github.com/medsettle/medsettle/engine"
)

// storedContribution is the contribution section of a stored policy
// (storedPolicy.Contribution, absent from documents written before it).
type storedContribution struct {
	Amount    engine.Money    `json:"Amount"`
	Subsidies []storedSubsidy `json:"Subsidies"`
}

// storedSubsidy is one subsidy of a stored contribution section.
type storedSubsidy struct {
	Category int          `json:"Category"`
	Full     bool         `json:"Full"`
	Amount   engine.Money `json:"Amount"`
}

// toStoredContribution is the stored form of a contribution section (nil
// for none).
func toStoredContribution(c *engine.Contribution) (*storedContribution, error) {
	if c == nil {
		return nil, nil
	}
	subs, err := convert(c.Subsidies, func(s engine.Subsidy) (storedSubsidy, error) {
		code, err := categoryCodes.code(s.Category)
		return storedSubsidy{Category: code, Full: s.Full, Amount: s.Amount}, err
	})
	return &storedContribution{Amount: c.Amount, Subsidies: subs}, err
}

// contribution reads a stored contribution section (nil for none).
func (d *storedContribution) contribution() (*engine.Contribution, error) {
	if d == nil {
		return nil, nil
	}
	subs, err := convert(d.Subsidies, func(s storedSubsidy) (engine.Subsidy, error) {
		c, err := categoryCodes.value(s.Category)
		return engine.Subsidy{Category: c, Full: s.Full, Amount: s.Amount}, err
	})
	if err != nil {
		return nil, fmt.Errorf("contribution: %w", err)
	}
	return &engine.Contribution{Amount: d.Amount, Subsidies: subs}, nil
}
