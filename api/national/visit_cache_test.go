package national

import (
	"context"
	"strings"
	"testing"

	"github.com/medsettle/medsettle/store"
)

// readingVisits counts the visit reads (GetVisit) the gateway makes.
type readingVisits struct {
	store.VisitStore
	gets int
}

func (r *readingVisits) GetVisit(ctx context.Context, id string) (store.Visit, error) {
	r.gets++
	return r.VisitStore.GetVisit(ctx, id)
}

// TestUploadToAVisitChangedAfterItWasCached: uploads and cancellations of
// details check a visit the gateway opened from its cache, without reading
// it; once the visit is settled or cancelled behind the cache's back, they
// are refused as before (the same messages, whatever else is wrong with
// the upload) and change nothing. Another institution's visit is still
// unknown, and one the gateway has not seen is read, then cached.
func TestUploadToAVisitChangedAfterItWasCached(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.g.visitAttrs = newVisitCache(10)
	reads := &readingVisits{VisitStore: f.visits}
	f.g.visits = reads
	id := f.open()
	if _, ok := f.g.visitAttrs.get(id); !ok {
		t.Fatal("the visit 2201 opened is not cached")
	}
	f.ok("H1", "2204", upload(feeLine(id, "P1", "1", "A1", "1", "2", "2")))
	f.ok("H1", "2205", `{"data":{"mdtrt_id":"`+id+`","psn_no":"P1","chrg_bchno":"B1","feedetl_sn":"1"}}`)
	f.ok("H1", "2204", upload(feeLine(id, "P1", "2", "A1", "1", "2", "2")))
	if reads.gets != 0 {
		t.Errorf("uploads and a cancellation of a cached visit read it %d times", reads.gets)
	}
	f.refused("H2", "2204", upload(feeLine(id, "P1", "3", "A1", "1", "2", "2")), "mdtrt_id "+id+" 不存在或不是本机构的就诊")
	f.refused("H1", "2301", upload(feeLine(id, "P1", "3", "A1", "1", "2", "2")), "交易 2301 只办理住院")
	f.refused("H1", "2205", `{"data":{"mdtrt_id":"`+id+`","psn_no":"P2","feedetl_sn":"0000"}}`, "psn_no P2 不是就诊 "+id+" 的人员")

	// Settled behind the cache's back.
	if _, err := f.st.MarkVisitSettled(ctx, id, "ST1"); err != nil {
		t.Fatal(err)
	}
	before := f.state(id)
	const settled = "已结算（setl_id ST1），不能上传费用明细"
	for what, in := range map[string]string{
		"a good line":      upload(feeLine(id, "P1", "3", "A1", "1", "2", "2")),
		"a line stored":    upload(feeLine(id, "P1", "2", "A1", "1", "2", "2")),
		"a bad line":       upload(feeLine(id, "P1", "3", "A1", "-1", "2", "2")),
		"another content":  upload(feeLine(id, "P1", "2", "A1", "2", "2", "4")),
		"an unlisted date": upload(strings.Replace(feeLine(id, "P1", "3", "A1", "1", "2", "2"), `"2025-03-04 09:00:00"`, `"2019-03-04 09:00:00"`, 1)),
	} {
		if msg := f.refused("H1", "2204", in, settled); !strings.Contains(msg, settled) {
			t.Errorf("an upload of %s to the settled visit: %s", what, msg)
		}
	}
	f.refused("H1", "2205", `{"data":{"mdtrt_id":"`+id+`","psn_no":"P1","feedetl_sn":"0000"}}`, "已结算（setl_id ST1），不能撤销费用明细")
	f.unchanged(id, before)

	// Cancelled behind the cache's back.
	id2 := mdtrtID(t, f.ok("H1", "2201", strings.Replace(open2201, "OP-1", "OP-2", 1)))
	f.ok("H1", "2204", upload(feeLine(id2, "P1", "1", "A1", "1", "2", "2")))
	if _, err := f.st.CancelVisit(ctx, id2); err != nil {
		t.Fatal(err)
	}
	before = f.state(id2)
	f.refused("H1", "2204", upload(feeLine(id2, "P1", "2", "A1", "1", "2", "2")), "就诊 "+id2+" 已撤销，不能上传费用明细")
	f.refused("H1", "2204", upload(feeLine(id2, "P1", "2", "A1", "1", "2", "2.01")), "就诊 "+id2+" 已撤销，不能上传费用明细")
	f.refused("H1", "2205", `{"data":{"mdtrt_id":"`+id2+`","psn_no":"P1","feedetl_sn":"0000"}}`, "就诊 "+id2+" 已撤销，不能撤销费用明细")
	f.unchanged(id2, before)

	// A visit the gateway has not seen (opened elsewhere) is read once,
	// then cached.
	other, err := f.st.OpenVisit(ctx, store.Visit{InstitutionID: "H1", PersonID: "P1", Kind: store.VisitKindOutpatient, Number: "OP-3",
		Scheme: before.V.Scheme, MedType: "11", Begin: "2025-03-04 08:00:00"})
	if err != nil {
		t.Fatal(err)
	}
	reads.gets = 0
	f.refused("H2", "2204", upload(feeLine(other.ID, "P1", "1", "A1", "1", "2", "2")), "mdtrt_id "+other.ID+" 不存在或不是本机构的就诊")
	f.ok("H1", "2204", upload(feeLine(other.ID, "P1", "1", "A1", "1", "2", "2")))
	f.ok("H1", "2204", upload(feeLine(other.ID, "P1", "2", "A1", "1", "2", "2")))
	if reads.gets != 1 {
		t.Errorf("a visit not cached was read %d times by a refusal and two uploads, want once", reads.gets)
	}
	f.refused("H1", "2204", upload(feeLine("MD404", "P1", "9", "A1", "1", "2", "2")), "mdtrt_id MD404 不存在")
}

// TestVisitCacheBounded: a full cache forgets one visit for each new one;
// one of size 0 keeps none.
func TestVisitCacheBounded(t *testing.T) {
	c := newVisitCache(3)
	for _, id := range []string{"MD1", "MD2", "MD3", "MD4", "MD5", "MD4"} {
		c.keep(store.Visit{ID: id, InstitutionID: "H1"})
	}
	if n := len(c.m); n != 3 {
		t.Errorf("%d visits kept, want 3", n)
	}
	if a, ok := c.get("MD4"); !ok || a.institution != "H1" {
		t.Errorf("the visit kept last: %+v, %v", a, ok)
	}
	none := newVisitCache(0)
	none.keep(store.Visit{ID: "MD1"})
	if _, ok := none.get("MD1"); ok {
		t.Error("a cache of size 0 kept a visit")
	}
}
