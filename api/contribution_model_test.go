package api

import (
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// The contribution model: a second, deliberately plain statement of
// API.md "Contributions", written apart from engine.Contribution.Quote, in
// whole fen. The randomized test compares the server's Quote and
// ExportPlan with it.

// modelSubsidy is one subsidy: full, or a fixed amount in fen.
type modelSubsidy struct {
	category pb.PersonCategory
	full     bool
	fen      int64
}

// modelPerson is a resident: an undated category and dated identities.
type modelPerson struct {
	id         string
	category   pb.PersonCategory
	identities []modelIdentity
}

// modelIdentity is a category held from one day to another, both
// included, as "YYYY-MM-DD" (which order as dates).
type modelIdentity struct {
	category pb.PersonCategory
	from, to string
}

// holds reports whether the person holds c on day: as the undated
// category (ordinary and unspecified are no category) or as an identity
// whose days include day.
func (p modelPerson) holds(c pb.PersonCategory, day string) bool {
	if c == catNone || c == catOrdinary {
		return false
	}
	if p.category == c {
		return true
	}
	for _, id := range p.identities {
		if id.category == c && id.from <= day && day <= id.to {
			return true
		}
	}
	return false
}

// modelQuote is what p owes: every subsidy of a held category is worth
// its amount, at most the contribution (all of it when full); the
// largest counts, and of those worth as much the first listed is the
// basis. It returns the subsidy in fen and the basis (unspecified for
// none).
func modelQuote(contribution int64, subsidies []modelSubsidy, p modelPerson, day string) (int64, pb.PersonCategory) {
	worth := make([]int64, len(subsidies))
	best := int64(-1)
	for i, s := range subsidies {
		worth[i] = -1
		if !p.holds(s.category, day) {
			continue
		}
		worth[i] = contribution
		if !s.full && s.fen < contribution {
			worth[i] = s.fen
		}
		best = max(best, worth[i])
	}
	for i, w := range worth {
		if w >= 0 && w == best {
			return w, subsidies[i].category
		}
	}
	return 0, catNone
}

// fenText renders fen as the API renders money ("380.00").
func fenText(fen int64) string {
	return fmt.Sprintf("%d.%02d", fen/100, fen%100)
}

// modelSeed is the seed of TestContributionModel: CONTRIBUTION_SEED when
// set (to replay a failure), else the clock.
func modelSeed(t *testing.T) uint64 {
	if s := os.Getenv("CONTRIBUTION_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		must(t, err)
		return n
	}
	return uint64(time.Now().UnixNano())
}

// TestContributionModel generates residents with random undated
// categories and dated identities, and random contribution sections, and
// checks Quote and ExportPlan against modelQuote, through gRPC, on both
// stores. A failure prints the seed: CONTRIBUTION_SEED=<seed> replays it.
func TestContributionModel(t *testing.T) {
	seed := modelSeed(t)
	t.Logf("seed %d (CONTRIBUTION_SEED=%d replays it)", seed, seed)
	for _, kind := range storeKinds {
		t.Run(string(kind), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 11))
			c := contributionServer(t, kind)
			for round := range 3 {
				region := fmt.Sprintf("M%d", round)
				checkModelRound(t, c, rng, region, seed)
			}
		})
	}
}

// categories a person or a subsidy may name.
var modelCategories = []pb.PersonCategory{catDestitute, catMinimum, catMonitored, catPoverty}

// randomDay is a day of 2025 to 2027, as text.
func randomDay(rng *rand.Rand) string {
	d := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, rng.IntN(3*365))
	return d.Format(time.DateOnly)
}

// randomSection is a random valid contribution section: an amount, often
// round, sometimes 0.00; a random subset of the categories in random
// order, each full or a fixed amount from 0.01 to the contribution (ties
// on purpose).
func randomSection(rng *rand.Rand) (int64, []modelSubsidy) {
	var amount int64
	switch rng.IntN(6) {
	case 0:
		amount = 0
	case 1, 2:
		amount = int64(1+rng.IntN(20)) * 5000
	default:
		amount = 1 + rng.Int64N(200_000)
	}
	var subs []modelSubsidy
	for _, i := range rng.Perm(len(modelCategories)) {
		if rng.IntN(4) == 0 {
			continue
		}
		s := modelSubsidy{category: modelCategories[i]}
		switch {
		case amount == 0 || rng.IntN(4) == 0:
			s.full = true
		case rng.IntN(3) == 0 && len(subs) > 0 && !subs[0].full:
			s.fen = subs[0].fen // a tie with the first listed
		case rng.IntN(5) == 0:
			s.fen = amount // as much as full
		default:
			s.fen = 1 + rng.Int64N(amount)
		}
		subs = append(subs, s)
	}
	return amount, subs
}

// randomPerson is a resident with a random undated category (mostly
// none) and up to four dated identities, at most two of each category
// and never overlapping within one.
func randomPerson(rng *rand.Rand, id string) modelPerson {
	p := modelPerson{id: id}
	if rng.IntN(3) == 0 {
		p.category = []pb.PersonCategory{catOrdinary, catDestitute, catMinimum, catMonitored, catPoverty}[rng.IntN(5)]
	}
	for range rng.IntN(5) {
		cat := modelCategories[rng.IntN(len(modelCategories))]
		a, b := randomDay(rng), randomDay(rng)
		if b < a {
			a, b = b, a
		}
		overlaps := false
		for _, o := range p.identities {
			if o.category == cat && a <= o.to && o.from <= b {
				overlaps = true
			}
		}
		if !overlaps {
			p.identities = append(p.identities, modelIdentity{category: cat, from: a, to: b})
		}
	}
	return p
}

// checkModelRound registers a random section and random residents in
// region and compares the server with the model on random days.
func checkModelRound(t *testing.T, c *contributionTS, rng *rand.Rand, region string, seed uint64) {
	t.Helper()
	amount, subs := randomSection(rng)
	section := &pb.Contribution{Amount: fenText(amount)}
	for _, s := range subs {
		ps := &pb.Subsidy{Category: s.category, Full: s.full}
		if !s.full {
			ps.Amount = fenText(s.fen)
		}
		section.Subsidies = append(section.Subsidies, ps)
	}
	c.putPolicy(contributionPolicy(region, section))
	persons := make([]modelPerson, 20+rng.IntN(30))
	for i := range persons {
		persons[i] = randomPerson(rng, fmt.Sprintf("%s-%d", region, rng.IntN(1_000_000)))
		p := persons[i]
		var ids []*pb.Identity
		for _, id := range p.identities {
			ids = append(ids, identity(id.category, id.from, id.to))
		}
		c.resident(p.id, region, p.category, ids...)
	}
	// A random id may repeat: the later registration replaces the person.
	byID := map[string]modelPerson{}
	for _, p := range persons {
		byID[p.id] = p
	}
	ids := make([]string, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	describe := fmt.Sprintf("seed %d, region %s, section %v", seed, region, section)

	for _, day := range []string{"", randomDay(rng), randomDay(rng)} {
		at := day
		if at == "" {
			at = "2026-01-01"
		}
		var want []string
		var total, subsidy int64
		byCat := map[pb.PersonCategory][2]int64{}
		for _, id := range ids {
			p := byID[id]
			s, basis := modelQuote(amount, subs, p, at)
			want = append(want, fmt.Sprintf("%s %s %s %s %s", id, fenText(amount), fenText(s), fenText(amount-s), shortCategory(basis)))
			total += amount
			subsidy += s
			if basis != catNone {
				bc := byCat[basis]
				byCat[basis] = [2]int64{bc[0] + 1, bc[1] + s}
			}
		}
		var cats []string
		for _, cat := range []pb.PersonCategory{catDestitute, catMinimum, catMonitored, catPoverty} {
			if bc, ok := byCat[cat]; ok {
				cats = append(cats, fmt.Sprintf("%s %d %s", shortCategory(cat), bc[0], fenText(bc[1])))
			}
		}
		wantTotals := fmt.Sprintf("%d %s %s %s [%s]", len(ids), fenText(total), fenText(subsidy), fenText(total-subsidy), strings.Join(cats, ", "))

		got, err := c.plan(clearingToken, &pb.ExportPlanRequest{Region: region, Scheme: resident, Year: 2026, AsOf: day})
		if err != nil {
			t.Fatalf("%s, as of %q: ExportPlan: %v", describe, day, err)
		}
		var rows []string
		for _, r := range got.rows {
			rows = append(rows, rowText(r))
		}
		for i := range max(len(rows), len(want)) {
			var g, w string
			if i < len(rows) {
				g = rows[i]
			}
			if i < len(want) {
				w = want[i]
			}
			if g != w {
				t.Fatalf("%s, as of %q: row %d is %q, the model says %q (person %+v)", describe, day, i, g, w, byID[strings.Fields(w + " ?")[0]])
			}
		}
		if s := totalsText(got.totals); s != wantTotals {
			t.Fatalf("%s, as of %q: totals %s, the model says %s", describe, day, s, wantTotals)
		}
		// Quote a few of them one by one.
		for range 5 {
			id := ids[rng.IntN(len(ids))]
			s, basis := modelQuote(amount, subs, byID[id], at)
			q, err := c.quote(clearingToken, id, 2026, day)
			if err != nil {
				t.Fatalf("%s, as of %q: Quote %s: %v", describe, day, id, err)
			}
			w := fmt.Sprintf("%s %s %s %s 2026.1", fenText(amount), fenText(s), fenText(amount-s), shortCategory(basis))
			if g := quoteText(q); g != w {
				t.Fatalf("%s, as of %q: Quote %s is %s, the model says %s (person %+v)", describe, day, id, g, w, byID[id])
			}
		}
	}
}
