package main

import (
	"bytes"
	"fmt"
	"html/template"
	"image/color"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// chartColors are the series colours of the charts (and their legends).
var chartColors = []color.RGBA{
	{0x4e, 0x79, 0xa7, 0xff}, // blue
	{0xf2, 0x8e, 0x2b, 0xff}, // orange
	{0x59, 0xa1, 0x4f, 0xff}, // green
	{0xe1, 0x57, 0x59, 0xff}, // red
}

// The charts' text is Liberation Sans (gonum/plot measures it with the
// Liberation fonts it embeds); the SVG names fallbacks for browsers
// without it, as nothing is loaded from the network.
func init() { plot.DefaultFont = font.Font{Typeface: "Liberation", Variant: "Sans"} }

// svgFonts is the font-family the charts ask a browser for.
const svgFonts = "font-family:'Liberation Sans',Arial,Helvetica,sans-serif;"

// barSeries is one series of a bar chart: a value per category.
type barSeries struct {
	label  string
	values []float64
}

// chart is a rendered chart: inline SVG and its legend.
type chart struct {
	Title  string
	Note   string
	SVG    template.HTML
	Legend []legendItem
}

// legendItem is one series' name and colour in a chart's legend.
type legendItem struct {
	Label string
	Color template.CSS
}

// barChart draws grouped bars, one group per category and one bar per
// series in it, as inline SVG (gonum/plot, vgsvg).
func barChart(title, note, yLabel string, categories []string, series []barSeries) (chart, error) {
	c := chart{Title: title, Note: note}
	if len(categories) == 0 {
		return c, nil
	}
	p := plot.New()
	p.Y.Label.Text = yLabel
	p.Y.Tick.Marker = groupedTicks{}
	p.BackgroundColor = color.White
	grid := plotter.NewGrid()
	grid.Vertical.Color = nil
	grid.Horizontal.Color = color.Gray{0xdd}
	p.Add(grid)

	n := len(series)
	barW := vg.Points(math.Max(6, math.Min(28, 60/float64(n))))
	for i, s := range series {
		bars, err := plotter.NewBarChart(plotter.Values(s.values), barW)
		if err != nil {
			return c, fmt.Errorf("chart %q: %w", title, err)
		}
		bars.LineStyle.Width = 0
		col := chartColors[i%len(chartColors)]
		bars.Color = col
		bars.Offset = barW * vg.Length(float64(i)-float64(n-1)/2)
		p.Add(bars)
		c.Legend = append(c.Legend, legendItem{Label: s.label, Color: template.CSS(fmt.Sprintf("#%02x%02x%02x", col.R, col.G, col.B))})
	}
	p.NominalX(categories...)
	p.X.Min, p.X.Max = -0.5, float64(len(categories))-0.5
	group := float64(barW) * float64(n+1)
	width := math.Max(480, math.Min(2400, 110+group*float64(len(categories))))
	// Labels wider than their slot are set at an angle (about 6 points a
	// character at 10 points).
	longest := 0
	for _, name := range categories {
		longest = max(longest, len([]rune(name)))
	}
	labelW := 6 * float64(longest)
	rotate := labelW > 0.9*(width-110)/float64(len(categories))
	height, left := 300.0, 0.0
	if rotate {
		p.X.Tick.Label.Rotation = math.Pi / 6
		p.X.Tick.Label.XAlign = draw.XRight
		p.X.Tick.Label.YAlign = draw.YTop
		height += labelW / 2
		// The first label reaches left of its bar by labelW·cos 30°.
		left = math.Max(0, labelW*0.87-(width-110)/float64(len(categories))/2-60)
		width += left
	}
	// Bars read from zero (negative ones too), with some room above the
	// tallest.
	lo, hi := 0.0, 0.0
	for _, s := range series {
		for _, v := range s.values {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if lo == hi {
		hi = 1
	}
	pad := (hi - lo) * 0.06
	p.Y.Min, p.Y.Max = lo, hi+pad
	if lo < 0 {
		p.Y.Min = lo - pad
		zero, err := plotter.NewLine(plotter.XYs{{X: p.X.Min, Y: 0}, {X: p.X.Max, Y: 0}})
		if err != nil {
			return c, fmt.Errorf("chart %q: %w", title, err)
		}
		zero.Color = color.Gray{0x66}
		p.Add(zero)
	}

	canvas := vgsvg.New(vg.Points(width), vg.Points(height))
	// Leave room above the top tick label, right of the last bar and left
	// of a long first label.
	p.Draw(draw.Crop(draw.New(canvas), vg.Points(left), -10, 0, -10))
	var buf bytes.Buffer
	if _, err := canvas.WriteTo(&buf); err != nil {
		return c, fmt.Errorf("chart %q: %w", title, err)
	}
	svg := buf.String()
	if i := strings.Index(svg, "<svg"); i > 0 {
		svg = svg[i:] // drop the XML declaration: the SVG is inline in HTML
	}
	svg = strings.ReplaceAll(svg, "font-family:Liberation Sans;", svgFonts)
	c.SVG = template.HTML(svg)
	return c, nil
}

// groupedTicks are plot.DefaultTicks labelled with thousands separators.
type groupedTicks struct{}

// Ticks implements plot.Ticker.
func (groupedTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = groupThousands(ticks[i].Value)
		}
	}
	return ticks
}

// groupThousands formats v with commas between thousands ("1,250,000").
func groupThousands(v float64) string {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if math.Abs(v) >= 100 {
		s = strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	}
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if frac != "" {
		return sign + b.String() + "." + frac
	}
	return sign + b.String()
}

// num reads a decimal string of the API as a float for a chart (0 when
// empty).
func num(s string) float64 {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0
	}
	return v
}

// reportPage is what the HTML template shows.
type reportPage struct {
	Title     string
	Subtitle  string
	Generated string
	Fields    [][2]string
	Headline  [][2]string
	Charts    []chart
	Tables    []reportTable
	Notes     []string
}

// reportTable is a titled table; Signed columns colour negative figures
// red and positive ones green (DRG differences).
type reportTable struct {
	Title  string
	Head   []string
	Rows   [][]string
	Signed map[int]bool
}

// writeHTMLReport writes a self-contained HTML report of the run: the
// summary, the kind's charts (inline SVG) and tables. It needs no network
// to be opened: no script, stylesheet, font or image is loaded.
func writeHTMLReport(path string, s *pb.ClearingSummary, counts costKindCounts) error {
	page, err := buildReport(s, counts)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := reportTemplate.Execute(&buf, page); err != nil {
		return fmt.Errorf("render report: %w", err)
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// buildReport lays out the report of a run; counts (DRG, may be nil) are
// the cases of each institution by cost kind.
func buildReport(s *pb.ClearingSummary, counts costKindCounts) (*reportPage, error) {
	page := &reportPage{
		Title:     "Clearing report: " + kindTitle[s.GetKind()],
		Generated: time.Now().Format("2006-01-02 15:04:05 MST"),
		Fields:    summaryFields(s),
	}
	state := "draft"
	if s.GetFinal() {
		state = "final"
	}
	switch s.GetKind() {
	case pb.ClearingKind_CLEARING_KIND_CAPITATION:
		page.Subtitle = fmt.Sprintf("contract %s, %s %s %d, %s run %s",
			firstNonEmpty(s.GetContractId(), s.GetCapitation().GetContractId()), s.GetRegion(), schemeWord(s.GetScheme()), s.GetYear(), state, s.GetRunId())
	default:
		page.Subtitle = fmt.Sprintf("region %s, %s, %s to %s, %s run %s",
			s.GetRegion(), schemeWord(s.GetScheme()), s.GetPeriodFrom(), s.GetPeriodTo(), state, s.GetRunId())
	}
	var ids []string
	for _, in := range s.GetInstitutions() {
		ids = append(ids, in.GetInstitutionId())
	}
	head, rows := institutionTable(s)
	var charts []chart
	var err error
	add := func(c chart, e error) {
		if e != nil && err == nil {
			err = e
		}
		charts = append(charts, c)
	}
	switch s.GetKind() {
	case pb.ClearingKind_CLEARING_KIND_DRG:
		page.Headline = [][2]string{{"point value V", s.GetPointValue()}, {"total points T", s.GetTotalPoints()}, {"paid total", s.GetPaidTotal()}, {"budget B", s.GetBudget()}}
		var points, payment, fund []float64
		for _, in := range s.GetInstitutions() {
			points = append(points, num(in.GetPoints()))
			payment = append(payment, num(in.GetPayment()))
			fund = append(fund, num(in.GetBasicFund()))
		}
		add(barChart("Payment by points against the item-by-item basic fund",
			fmt.Sprintf("payment = points × V − personal, V = %s; a payment above the basic fund is a surplus (结余), below it an overspend (超支)", s.GetPointValue()),
			"yuan", ids, []barSeries{{"payment (points × V − personal)", payment}, {"basic fund, item by item", fund}}))
		add(barChart("Points by institution", fmt.Sprintf("T = %s points in all", s.GetTotalPoints()),
			"points", ids, []barSeries{{"points", points}}))
		page.Tables = append(page.Tables, reportTable{Title: "Institutions", Head: head, Rows: rows, Signed: map[int]bool{6: true}})
		if len(counts) > 0 {
			var kinds [][]string
			for _, id := range ids {
				n := counts[id]
				all := 0
				for _, c := range n {
					all += c
				}
				kinds = append(kinds, []string{id, strconv.Itoa(all), strconv.Itoa(n[pb.CostKind_COST_KIND_NORMAL]),
					strconv.Itoa(n[pb.CostKind_COST_KIND_HIGH]), strconv.Itoa(n[pb.CostKind_COST_KIND_LOW])})
			}
			page.Tables = append(page.Tables, reportTable{Title: "Cases by cost kind", Head: []string{"institution", "cases", "normal", "high (费用极高)", "low (费用极低)"}, Rows: kinds})
		}
		if s.GetUngrouped() > 0 {
			page.Notes = append(page.Notes, fmt.Sprintf("%d ungrouped cases (basic fund %s) are left to itemized payment and are in no institution line.", s.GetUngrouped(), s.GetUngroupedBasicFund()))
		}
		if len(ids) == 0 {
			page.Notes = append(page.Notes, "No grouped case in the period: no institution is paid by points.")
		}
	case pb.ClearingKind_CLEARING_KIND_BUDGET:
		page.Headline = [][2]string{{"budgets (sum of G)", s.GetBudget()}, {"paid total", s.GetPaidTotal()}}
		var budget, claimed, paid []float64
		for _, in := range s.GetInstitutions() {
			budget = append(budget, num(in.GetBudget()))
			claimed = append(claimed, num(in.GetClaimed()))
			paid = append(paid, num(in.GetPaid()))
		}
		add(barChart("Budget use by institution", "claimed C = the basic fund of the settlements counted; paid: C plus retained surplus (结余留用) or G plus shared overspend (合理超支分担)",
			"yuan", ids, []barSeries{{"budget G", budget}, {"claimed C", claimed}, {"paid", paid}}))
		page.Tables = append(page.Tables, reportTable{Title: "Institutions", Head: head, Rows: rows})
		if len(ids) == 0 {
			page.Notes = append(page.Notes, "No institution of the region has a budget for the year.")
		}
	case pb.ClearingKind_CLEARING_KIND_CAPITATION:
		c := s.GetCapitation()
		page.Headline = [][2]string{{"members", strconv.FormatInt(c.GetMembers(), 10)}, {"budget K", c.GetBudget()}, {"actual A", c.GetActual()}, {"paid total", s.GetPaidTotal()}}
		if len(c.GetShares()) > 0 {
			var parties []string
			var amounts []float64
			var shareRows [][]string
			for _, sh := range c.GetShares() {
				parties = append(parties, sh.GetParty())
				amounts = append(amounts, num(sh.GetAmount()))
				shareRows = append(shareRows, []string{sh.GetParty(), sh.GetAmount()})
			}
			add(barChart("Surplus shares", "the surplus K − A = "+c.GetSurplus()+" split by the contract's shares", "yuan", parties, []barSeries{{"share of the surplus", amounts}}))
			page.Tables = append(page.Tables, reportTable{Title: "Surplus shares", Head: []string{"party", "amount"}, Rows: shareRows})
		} else if c.GetDeficit() != "" && !isZeroMoney(c.GetDeficit()) {
			add(barChart("Deficit", "the deficit A − K = "+c.GetDeficit()+": the fund covers part of it, the contract bears the rest", "yuan",
				[]string{"fund covers", "contract bears"}, []barSeries{{"deficit", []float64{num(c.GetFundCovers()), num(c.GetContractBears())}}}))
		}
		names := []string{"all components"}
		k := []float64{num(c.GetBudget())}
		a := []float64{num(c.GetActual())}
		var compRows [][]string
		for _, cp := range c.GetComponents() {
			names = append(names, cp.GetName())
			k = append(k, num(cp.GetBudget()))
			a = append(a, num(cp.GetActual()))
			compRows = append(compRows, []string{cp.GetName(), cp.GetBudget(), cp.GetActual()})
		}
		add(barChart("Budget K against actual A by component", "K = members × rate; A = basic fund of the members' settlements of the component's visit types, wherever treated",
			"yuan", names, []barSeries{{"budget K", k}, {"actual A", a}}))
		page.Tables = append(page.Tables, reportTable{Title: "Components", Head: []string{"component", "budget K", "actual A"}, Rows: compRows})
		if len(rows) > 0 {
			page.Tables = append(page.Tables, reportTable{Title: "Institutions", Head: head, Rows: rows})
		}
	}
	page.Charts = charts
	return page, err
}

// kindTitle names each kind in the report.
var kindTitle = map[pb.ClearingKind]string{
	pb.ClearingKind_CLEARING_KIND_DRG:        "DRG points (病组点数法)",
	pb.ClearingKind_CLEARING_KIND_BUDGET:     "institution budgets (总额预算)",
	pb.ClearingKind_CLEARING_KIND_CAPITATION: "capitation (按人头包干)",
}

var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"sign": func(s string) string {
		switch {
		case strings.HasPrefix(s, "-"):
			return "neg"
		case s != "" && !isZeroMoney(s):
			return "pos"
		}
		return ""
	},
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; margin: 2rem auto; max-width: 1100px; padding: 0 1rem; color: #222; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; }
h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
.sub { color: #555; margin-top: 0; }
.headline { display: flex; flex-wrap: wrap; gap: 1rem; margin: 1.2rem 0; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: .6rem 1rem; min-width: 9rem; }
.card .k { color: #666; font-size: .85rem; }
.card .v { font-size: 1.35rem; font-variant-numeric: tabular-nums; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-variant-numeric: tabular-nums; }
th, td { padding: .25rem .7rem; border-bottom: 1px solid #eee; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f6f6f6; }
table.fields td { text-align: left; }
table.fields td:first-child { color: #555; }
td.neg { color: #b3261e; } td.pos { color: #1e7b34; }
figure { margin: 1rem 0 2rem; overflow-x: auto; }
figure svg { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: .9rem; margin-bottom: .4rem; }
.legend span { display: inline-block; margin-right: 1.2rem; font-size: .9rem; }
.legend i { display: inline-block; width: .9rem; height: .9rem; margin-right: .35rem; vertical-align: -0.1rem; border-radius: 2px; }
.note { color: #555; }
footer { color: #888; font-size: .8rem; margin-top: 3rem; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p class="sub">{{.Subtitle}}</p>
<div class="headline">{{range .Headline}}<div class="card"><div class="k">{{index . 0}}</div><div class="v">{{index . 1}}</div></div>{{end}}</div>
{{range .Notes}}<p class="note">{{.}}</p>{{end}}
{{range .Charts}}{{if .SVG}}<h2>{{.Title}}</h2>
<figure>
<figcaption>{{.Note}}</figcaption>
<div class="legend">{{range .Legend}}<span><i style="background: {{.Color}}"></i>{{.Label}}</span>{{end}}</div>
{{.SVG}}
</figure>
{{end}}{{end}}
{{range .Tables}}<h2>{{.Title}}</h2>
<table>
<tr>{{range .Head}}<th>{{.}}</th>{{end}}</tr>
{{$t := .}}{{range .Rows}}<tr>{{range $i, $c := .}}<td{{if index $t.Signed $i}} class="{{sign $c}}"{{end}}>{{$c}}</td>{{end}}</tr>
{{end}}</table>
{{end}}
<h2>Summary</h2>
<table class="fields">
{{range .Fields}}<tr><td>{{index . 0}}</td><td>{{index . 1}}</td></tr>
{{end}}</table>
<footer>medsettle clearing report, generated {{.Generated}}. Figures are the server's, to the fen; charts are drawn from them.</footer>
</body>
</html>
`))
