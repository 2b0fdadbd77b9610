package national

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/medsettle/medsettle/engine"
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

// TestVisitCacheBounded: a full cache forgets a visit for each new one,
// never the one kept last; one of size 0, or a nil one, keeps none.
func TestVisitCacheBounded(t *testing.T) {
	c := newVisitCache(3)
	for _, id := range []string{"MD1", "MD2", "MD3", "MD4", "MD5", "MD4"} {
		c.keep(store.Visit{ID: id, InstitutionID: "H1"})
	}
	if n := c.count(); n > 3 {
		t.Errorf("%d visits kept, want 3 at most (fewer when its 2 shards got the visits unevenly)", n)
	}
	if a, ok := c.get("MD4"); !ok || a.institution != "H1" {
		t.Errorf("the visit kept last: %+v, %v", a, ok)
	}
	// keepMissed alike, a visit already kept included.
	for _, id := range []string{"MD6", "MD7", "MD8", "MD8", "MD9", "MD1"} {
		c.keepMissed(store.Visit{ID: id, InstitutionID: "H2"})
		if a, ok := c.get(id); !ok || a.institution != "H2" {
			t.Errorf("keepMissed(%s), then: %+v, %v", id, a, ok)
		}
		if n := c.count(); n > 3 {
			t.Errorf("keepMissed(%s): %d visits kept, want 3 at most", id, n)
		}
	}
	for _, v := range []store.Visit{{ID: ""}, {ID: strings.Repeat("M", 48), InstitutionID: "H3"}, {ID: "MD10", InstitutionID: strings.Repeat("H", 200)}} {
		c.keepMissed(v)
		if _, ok := c.get(v.ID); ok {
			t.Errorf("keepMissed kept a visit that does not fit: %.20q", v.ID)
		}
	}
	for _, none := range []*visitCache{newVisitCache(0), newVisitCache(-1), nil} {
		none.keep(store.Visit{ID: "MD1"})
		none.keepMissed(store.Visit{ID: "MD2"})
		if _, ok := none.get("MD1"); ok {
			t.Errorf("a cache of size 0, or a nil one (%v), kept a visit", none == nil)
		}
		if n := none.count(); n != 0 {
			t.Errorf("a cache of size 0, or a nil one (%v), keeps %d visits", none == nil, n)
		}
	}
}

// TestVisitCacheShards: whatever its size, a cache's shards are a power of
// two of them, none above its size nor visitShards, none empty, their
// sizes adding up to its size; keeping ten times as many visits as it
// holds, it keeps no more than its size (and, its shards filled, at least
// most of it), each visit in the shard its id hashes to, with the
// attributes it was given, the one kept last always found.
func TestVisitCacheShards(t *testing.T) {
	for _, size := range []int{1, 2, 3, visitShards - 1, visitShards, visitShards + 1, 2*visitShards - 1, 1000, 4099} {
		c := newVisitCache(size)
		n := len(c.shards)
		if n < 1 || n > visitShards || n > size || n&(n-1) != 0 || c.mask != uint64(n-1) {
			t.Errorf("size %d: %d shards (mask %#x)", size, n, c.mask)
		}
		if size >= visitShards && n != visitShards {
			t.Errorf("size %d: %d shards, want %d", size, n, visitShards)
		}
		total := 0
		for i := range c.shards {
			if m := c.shards[i].max; m < 1 || m > (size+n-1)/n {
				t.Errorf("size %d: shard %d keeps up to %d", size, i, m)
			}
			total += c.shards[i].max
		}
		if total != size {
			t.Errorf("size %d: its shards keep up to %d in all", size, total)
		}
		for i := range 10 * size {
			v := cachedVisit(i)
			c.keep(v)
			if a, ok := c.get(v.ID); !ok || a != attrsOf(v) {
				t.Fatalf("size %d: the visit kept last, %s: %+v %v", size, v.ID, a, ok)
			}
			if kept := c.count(); kept > size {
				t.Fatalf("size %d: %d visits kept after %d", size, kept, i+1)
			}
		}
		if kept := c.count(); kept < size-size/4 {
			t.Errorf("size %d: %d visits kept of %d", size, kept, 10*size)
		}
		for i := range c.shards {
			for k := range c.shards[i].m {
				id := string(k.id[:k.n])
				if c.shard(id) != &c.shards[i] {
					t.Errorf("size %d: visit %s kept in shard %d, not its own", size, id, i)
				}
				var n int
				if _, err := fmt.Sscanf(id, "MD%d", &n); err != nil {
					t.Fatalf("size %d: a visit %q was never kept", size, id)
				}
				if a, ok := c.get(id); !ok || a != attrsOf(cachedVisit(n)) {
					t.Errorf("size %d: visit %s kept as %+v %v, want %+v", size, id, a, ok, attrsOf(cachedVisit(n)))
				}
			}
		}
	}
	if s := unsafe.Sizeof(visitShard{}); s%cacheLine != 0 {
		t.Errorf("a shard has %d bytes, not whole lines of %d", s, cacheLine)
	}
}

// TestVisitCacheConcurrent: goroutines keeping and looking up visits at
// once, in a cache smaller than the visits (forgetting some all along)
// and in one large enough for all, only ever find a visit's own
// attributes, and the cache never keeps more than its size. Run with
// -race.
func TestVisitCacheConcurrent(t *testing.T) {
	const visits, goroutines, rounds = 2000, 16, 4000
	for _, size := range []int{1, visitShards + 1, 500, visits} {
		c := newVisitCache(size)
		var wg sync.WaitGroup
		for g := range goroutines {
			wg.Go(func() {
				for r := range rounds {
					i := (g*7919 + r*104729) % visits
					if r%3 == 0 {
						c.keep(cachedVisit(i))
						continue
					}
					if a, ok := c.get(cachedVisit(i).ID); ok && a != attrsOf(cachedVisit(i)) {
						t.Errorf("size %d: visit %d found as %+v", size, i, a)
						return
					}
				}
			})
		}
		wg.Wait()
		if n := c.count(); n > size {
			t.Errorf("size %d: %d visits kept", size, n)
		}
	}
}

// TestVisitCacheAllocates: looking up a visit, kept or not, and keeping
// one kept already, allocate nothing.
func TestVisitCacheAllocates(t *testing.T) {
	c := newVisitCache(100)
	v := cachedVisit(1)
	c.keep(v)
	missing := cachedVisit(2).ID
	for what, f := range map[string]func(){
		"a lookup":                     func() { c.lookup(v.ID) },
		"a lookup of a visit not kept": func() { c.lookup(missing) },
		"keeping a visit kept":         func() { c.keep(v) },
		"keeping a visit missed":       func() { c.keepMissed(v) },
	} {
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s allocates %v times", what, n)
		}
	}
}

// cachedVisit is the i-th of the visits the cache tests keep: its
// attributes all its own.
func cachedVisit(i int) store.Visit {
	return store.Visit{ID: fmt.Sprintf("MD%d", i), InstitutionID: fmt.Sprintf("H%d", i%7), PersonID: fmt.Sprintf("P%d", i),
		Kind: store.VisitKind(1 + i%2), Number: fmt.Sprintf("OP-%d", i), Scheme: engine.Scheme(1 + i%3),
		MedType: fmt.Sprint(11 + i%5), Begin: fmt.Sprintf("2025-03-%02d 08:00:00", 1+i%28)}
}

// count is how many visits c keeps.
func (c *visitCache) count() int {
	if c == nil {
		return 0
	}
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.m)
		s.mu.RUnlock()
	}
	return n
}
