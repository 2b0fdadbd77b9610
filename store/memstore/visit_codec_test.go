package memstore

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// pointerFree reports, naming the first field that is not, whether t
// holds no pointer: only booleans, numbers, and arrays and structs of
// them.
func pointerFree(t reflect.Type) (string, bool) {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return "", true
	case reflect.Array:
		return pointerFree(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			if where, ok := pointerFree(f.Type); !ok {
				return t.Name() + "." + f.Name + where, false
			}
		}
		return "", true
	}
	return " (" + t.String() + ")", false
}

// TestVisitTypesHoldNoPointer: what the visit book keeps per visit (its
// slot, and the keys and values of its hash indexes and pages) holds no
// pointer, so that the garbage collector does not scan it.
func TestVisitTypesHoldNoPointer(t *testing.T) {
	var b visitBook
	b.index.init()
	types := []reflect.Type{
		reflect.TypeFor[visitSlot](),
		reflect.TypeOf(b.index.byID.byHash).Key(), reflect.TypeOf(b.index.byID.byHash).Elem(),
		reflect.TypeOf(b.index.byNumber.byHash).Key(), reflect.TypeOf(b.index.byNumber.byHash).Elem(),
		reflect.TypeOf(b.slots.pages).Elem().Elem(),
	}
	for _, typ := range types {
		if where, ok := pointerFree(typ); !ok {
			t.Errorf("%s holds a pointer: %s", typ, where)
		}
	}
	if _, ok := pointerFree(reflect.TypeFor[store.Visit]()); ok {
		t.Error("pointerFree finds no pointer in store.Visit")
	}
}

// testVisit is a visit with every field set.
func testVisit() store.Visit {
	return store.Visit{ID: "V1", InstitutionID: "H1", PersonID: "P1", Kind: store.VisitKindInpatient, Number: "IP-0001",
		Scheme: engine.SchemeResident, MedType: "21", Begin: "2025-06-02 09:30:00", State: store.VisitSettled,
		SettlementID: "ST1", Generation: 3, ReversedSettlementID: "ST0", Discharge: strings.Repeat("出院记录", 300),
		OpenedAt:       time.Date(2025, 6, 2, 9, 30, 0, 123456000, time.UTC),
		DetailsVersion: 7, SettledAt: time.Date(2025, 6, 3, 10, 0, 0, 1000, time.UTC), SettleMsgid: "H1202506031000000001", SettleCertType: "02"}
}

// TestVisitCodecRoundTrip: a visit stored in the book reads back equal
// (==, so times keep their instant and location), through changes of
// every group of strings and of the numbers, and with empty strings and
// zero or extreme times.
func TestVisitCodecRoundTrip(t *testing.T) {
	var b visitBook
	full := testVisit()
	bare := store.Visit{ID: "V2", InstitutionID: "H1", PersonID: "P2", Kind: store.VisitKindOutpatient, Number: "长-1",
		Scheme: engine.SchemeEmployee, State: store.VisitOpen, OpenedAt: time.Now().UTC().Truncate(time.Microsecond)}
	slots := map[uint32]store.Visit{}
	for _, v := range []store.Visit{full, bare} {
		slots[b.add(&v, visitNumber{v.InstitutionID, v.Kind, v.Number})] = v
	}
	check := func(what string) {
		t.Helper()
		for slot, want := range slots {
			got, err := b.load(slot)
			if err != nil || got != want {
				t.Fatalf("%s: slot %d reads %+v, %v; want %+v", what, slot, got, err, want)
			}
		}
	}
	check("added")
	changes := []func(v *store.Visit){
		func(v *store.Visit) {
			v.State, v.SettlementID, v.SettleMsgid, v.SettleCertType = store.VisitOpen, "", "", ""
		},
		func(v *store.Visit) { v.SettledAt = time.Time{} },
		func(v *store.Visit) { v.Discharge = "" },
		func(v *store.Visit) { v.Discharge = "d" },
		func(v *store.Visit) { v.ReversedSettlementID = "ST9" },
		func(v *store.Visit) { v.SettledAt = time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC) },
		func(v *store.Visit) { v.SettledAt = time.Date(1969, 12, 31, 23, 59, 59, 1000, time.UTC) },
		func(v *store.Visit) { v.Generation, v.DetailsVersion = 1<<40, -5 },
	}
	for i, change := range changes {
		for slot, old := range slots {
			v := old
			change(&v)
			b.put(slot, &old, &v)
			slots[slot] = v
		}
		check("change " + string(rune('0'+i)))
	}
	// A visit handed out by visit and changed is stored by save, and not
	// before it; a second save of the same record changes nothing.
	b.mu.Lock()
	r, err := b.visit("V1")
	if err != nil {
		t.Fatal(err)
	}
	r.v.State, r.v.SettlementID = store.VisitSettled, "ST2"
	want := r.v
	if got, _ := b.load(r.slot); got.SettlementID == "ST2" {
		t.Error("a change stored before save")
	}
	b.save(r)
	b.save(r)
	b.mu.Unlock()
	slots[0] = want
	check("saved")
}

// TestVisitCodecCorrupt: a visit whose encoded strings are corrupt is an
// engine.ErrInvariant, never a wrong visit.
func TestVisitCodecCorrupt(t *testing.T) {
	for _, cut := range []func(s *visitSlot){
		func(s *visitSlot) { s.fixed.n-- },
		func(s *visitSlot) { s.settle.n-- },
		func(s *visitSlot) { s.discharge.n-- },
		func(s *visitSlot) { s.fixed.n += 2 },
	} {
		var b visitBook
		v := testVisit()
		slot := b.add(&v, visitNumber{v.InstitutionID, v.Kind, v.Number})
		cut(b.slots.at(slot))
		if got, err := b.load(slot); !errors.Is(err, engine.ErrInvariant) {
			t.Errorf("corrupt visit read as %+v, %v", got, err)
		}
	}
}
