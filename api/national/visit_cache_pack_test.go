package national

import (
	"reflect"
	"strings"
	"testing"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// TestVisitCachePacked: the attributes kept are the visit's as they were
// given; a visit whose id or texts do not fit is not kept (it is read
// instead); the cache's map holds no pointer for the collector to scan.
func TestVisitCachePacked(t *testing.T) {
	c := newVisitCache(10)
	v := store.Visit{ID: "MD0193a2b3c4d5e6f708192a3b", InstitutionID: "H1", PersonID: "610103199001011234", Kind: store.VisitKindInpatient,
		Number: "IPT-中文-1", Scheme: engine.SchemeResident, MedType: "21", Begin: "2025-03-04 08:00:00"}
	c.keep(v)
	if a, ok := c.get(v.ID); !ok || a != attrsOf(v) || a.visit(v.ID) != attrsOf(v).visit(v.ID) {
		t.Fatalf("kept %+v %v, want %+v", a, ok, attrsOf(v))
	}
	empty := store.Visit{ID: "MD1"}
	c.keep(empty)
	if a, ok := c.get("MD1"); !ok || a != attrsOf(empty) {
		t.Fatalf("kept %+v %v", a, ok)
	}
	long := v
	long.ID = strings.Repeat("x", 48)
	c.keep(long)
	if _, ok := c.get(long.ID); ok {
		t.Error("an id of 48 bytes was kept")
	}
	long.ID = strings.Repeat("x", 47)
	c.keep(long)
	if a, ok := c.get(long.ID); !ok || a != attrsOf(long) {
		t.Errorf("an id of 47 bytes: %+v %v", a, ok)
	}
	wide := v
	wide.ID, wide.Number = "MD2", strings.Repeat("n", 121-len(v.InstitutionID+v.PersonID+v.MedType+v.Begin)+1)
	c.keep(wide)
	if _, ok := c.get(wide.ID); ok {
		t.Error("texts of 122 bytes were kept")
	}
	wide.Number = wide.Number[1:]
	c.keep(wide)
	if a, ok := c.get(wide.ID); !ok || a != attrsOf(wide) {
		t.Errorf("texts of 121 bytes: %+v %v", a, ok)
	}
	for _, typ := range []reflect.Type{reflect.TypeFor[visitKey](), reflect.TypeFor[packedAttrs]()} {
		if hasPointers(typ) {
			t.Errorf("%v holds pointers", typ)
		}
	}
}

// hasPointers reports whether values of t hold a pointer.
func hasPointers(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8,
		reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr, reflect.Float32, reflect.Float64:
		return false
	case reflect.Array:
		return hasPointers(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if hasPointers(t.Field(i).Type) {
				return true
			}
		}
		return false
	}
	return true
}
