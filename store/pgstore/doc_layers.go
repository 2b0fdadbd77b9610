package pgstore

import "github.com/medsettle/medsettle/engine"

// storedLayer is one fund layer of a stored result (engine.Layer).
type storedLayer struct {
	Fund        int           `json:"Fund"`
	From        engine.Money  `json:"From"`
	Base        engine.Money  `json:"Base"`
	Threshold   engine.Money  `json:"Threshold"`
	Bands       []storedBand  `json:"Bands"` // as applied (doc_policy.go's band)
	Cap         *engine.Money `json:"Cap"`
	Room        engine.Money  `json:"Room"`
	Raw         engine.Money  `json:"Raw"`
	Paid        engine.Money  `json:"Paid"`
	Ceiling     *engine.Money `json:"Ceiling"`
	CeilingPaid engine.Money  `json:"CeilingPaid"`
}

// toStoredLayers is the stored form of a result's layers (nil for none).
func toStoredLayers(ls []engine.Layer) ([]storedLayer, error) {
	var out []storedLayer
	for _, l := range ls {
		f, err := fundCodes.code(l.Fund)
		if err != nil {
			return nil, err
		}
		d := storedLayer{Fund: f, From: l.From, Base: l.Base, Threshold: l.Threshold, Cap: l.Cap, Room: l.Room,
			Raw: l.Raw, Paid: l.Paid, Ceiling: l.Ceiling, CeilingPaid: l.CeilingPaid}
		for _, b := range l.Bands {
			d.Bands = append(d.Bands, storedBand(b))
		}
		out = append(out, d)
	}
	return out, nil
}

// fromStoredLayers is the engine form of stored layers (nil for none).
func fromStoredLayers(ds []storedLayer) ([]engine.Layer, error) {
	var out []engine.Layer
	for _, d := range ds {
		f, err := fundCodes.value(d.Fund)
		if err != nil {
			return nil, err
		}
		l := engine.Layer{Fund: f, From: d.From, Base: d.Base, Threshold: d.Threshold, Cap: d.Cap, Room: d.Room,
			Raw: d.Raw, Paid: d.Paid, Ceiling: d.Ceiling, CeilingPaid: d.CeilingPaid}
		for _, b := range d.Bands {
			l.Bands = append(l.Bands, engine.Band(b))
		}
		out = append(out, l)
	}
	return out, nil
}
