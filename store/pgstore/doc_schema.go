package pgstore

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/medsettle/medsettle/engine"
)

// docVersion is the version of every document pgstore writes (the "v"
// field). A stored document without "v" is version 1: the untagged JSON of
// the engine structs written before documents had a schema, whose field
// names and enum numbers the stored types keep.
const docVersion = 1

// errDocument marks a stored document that cannot be read: not JSON, an
// unknown version, a missing required field or an unknown enum number. It
// wraps engine.ErrInvariant: stored state that is not what it must be is an
// internal error, never a silent wrong answer.
var errDocument = fmt.Errorf("%w: stored document", engine.ErrInvariant)

// decodeDoc decodes a stored document of the given kind into out (a pointer
// to a stored type): it checks the version and that every required field is
// present (a field is required unless tagged doc:"optional"), then decodes.
func decodeDoc(kind string, doc []byte, out any) error {
	var head struct {
		V *int `json:"v"`
	}
	if err := json.Unmarshal(doc, &head); err != nil {
		return fmt.Errorf("%w: %s: %v", errDocument, kind, err)
	}
	if head.V != nil && *head.V != docVersion {
		return fmt.Errorf("%w: %s: version %d is not known (this server reads version %d)", errDocument, kind, *head.V, docVersion)
	}
	if err := checkRequired(json.RawMessage(doc), reflect.TypeOf(out).Elem(), kind); err != nil {
		return err
	}
	if err := json.Unmarshal(doc, out); err != nil {
		return fmt.Errorf("%w: %s: %v", errDocument, kind, err)
	}
	return nil
}

var (
	unmarshalerType     = reflect.TypeOf((*json.Unmarshaler)(nil)).Elem()
	textUnmarshalerType = reflect.TypeOf((*encoding.TextUnmarshaler)(nil)).Elem()
)

// checkRequired reports the first required field missing from raw, read as
// a document of type t, at any depth.
func checkRequired(raw json.RawMessage, t reflect.Type, path string) error {
	if pt := reflect.PointerTo(t); pt.Implements(unmarshalerType) || pt.Implements(textUnmarshalerType) {
		return nil // a leaf with its own encoding (an engine figure: a string)
	}
	isNull := bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
	switch t.Kind() {
	case reflect.Pointer:
		if isNull {
			return nil
		}
		return checkRequired(raw, t.Elem(), path)
	case reflect.Struct:
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
			return fmt.Errorf("%w: %s is not an object", errDocument, path)
		}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" {
				continue
			}
			v, ok := fields[name]
			if !ok {
				if f.Tag.Get("doc") == "optional" {
					continue
				}
				return fmt.Errorf("%w: %s has no %q", errDocument, path, name)
			}
			if err := checkRequired(v, f.Type, path+"."+name); err != nil {
				return err
			}
		}
	case reflect.Slice:
		if isNull {
			return nil
		}
		var elems []json.RawMessage
		if err := json.Unmarshal(raw, &elems); err != nil {
			return fmt.Errorf("%w: %s is not an array", errDocument, path)
		}
		for i, e := range elems {
			if err := checkRequired(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		if isNull {
			return nil
		}
		var elems map[string]json.RawMessage
		if err := json.Unmarshal(raw, &elems); err != nil {
			return fmt.Errorf("%w: %s is not an object", errDocument, path)
		}
		for k, e := range elems {
			if err := checkRequired(e, t.Elem(), path+"["+k+"]"); err != nil {
				return err
			}
		}
	}
	return nil
}

// enumCodes is the explicit mapping of one engine enum to the numbers
// stored for it. The numbers are a contract: a stored number never changes
// meaning, whatever the engine's constants become.
type enumCodes[E comparable] struct {
	name string
	to   map[E]int
	from map[int]E
}

func newEnumCodes[E comparable](name string, to map[E]int) enumCodes[E] {
	from := make(map[int]E, len(to))
	for e, n := range to {
		from[n] = e
	}
	return enumCodes[E]{name: name, to: to, from: from}
}

// code is the stored number of e.
func (c enumCodes[E]) code(e E) (int, error) {
	n, ok := c.to[e]
	if !ok {
		return 0, fmt.Errorf("%w: %s %v has no stored number", errDocument, c.name, e)
	}
	return n, nil
}

// value is the engine value of a stored number.
func (c enumCodes[E]) value(n int) (E, error) {
	e, ok := c.from[n]
	if !ok {
		var zero E
		return zero, fmt.Errorf("%w: %s %d is not a known stored number", errDocument, c.name, n)
	}
	return e, nil
}

// The stored numbers of every enum in a stored document. They are the
// numbers the untagged documents were written with.
var (
	visitTypeCodes = newEnumCodes("visit type", map[engine.VisitType]int{
		engine.VisitUnspecified: 0, engine.VisitInpatient: 1, engine.VisitChronicOutpatient: 2, engine.VisitOutpatient: 3,
	})
	crossRegionCodes = newEnumCodes("cross region", map[engine.CrossRegion]int{
		engine.CrossRegionUnspecified: 0, engine.CrossRegionLocal: 1, engine.CrossRegionRegistered: 2, engine.CrossRegionUnregistered: 3,
	})
	schemeCodes = newEnumCodes("scheme", map[engine.Scheme]int{
		engine.SchemeUnspecified: 0, engine.SchemeEmployee: 1, engine.SchemeResident: 2,
	})
	fundCodes = newEnumCodes("fund", map[engine.Fund]int{
		engine.FundUnspecified: 0, engine.FundBasic: 1, engine.FundCatastrophic: 2, engine.FundMedicalAid: 3, engine.FundAidCeiling: 4,
	})
	budgetStateCodes = newEnumCodes("budget state", map[engine.BudgetState]int{
		engine.BudgetUnspecified: 0, engine.BudgetWithin: 1, engine.BudgetWarning: 2, engine.BudgetExceeded: 3,
	})
	settlementStateCodes = newEnumCodes("settlement state", map[engine.SettlementState]int{
		engine.StateUnspecified: 0, engine.StatePreview: 1, engine.StateSettled: 2, engine.StateReversed: 3,
	})
)
