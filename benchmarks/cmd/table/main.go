// Command table turns benchstat's CSV output for BenchmarkSessions into
// the markdown tables of results.md: one table per scenario with the
// benchstat median of every peer, its cost over the same framework's bare
// handler, and a closing list of the project's targets, met or missed.
//
// Usage:
//
//	benchstat -format csv raw.txt | go run ./cmd/table > tables.md
//
// Rows are benchmarks named Sessions/<Scenario>/<framework>-<library>
// (with the -N GOMAXPROCS suffix go test adds); the row <framework>-bare of
// the same scenario is the floor the others are compared with. Scenarios
// that report custom metrics (memory, sweep latency) get a table of those
// metrics instead.
package main

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("table: ")
	res, err := parse(os.Stdin)
	if err != nil {
		log.Fatal(err)
	}
	w := bufio.NewWriter(os.Stdout)
	render(w, res)
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}
}

// Units benchstat reports for every benchmark.
const (
	unitTime   = "sec/op"
	unitBytes  = "B/op"
	unitAllocs = "allocs/op"
)

// cell is one benchstat summary: the median and its confidence interval
// ("3%"; "∞" when there are too few samples, "?" when benchstat cannot
// tell, as for a metric that is 0 in every run).
type cell struct {
	v  float64
	ci string
}

// row is one benchmark: a scenario and a peer, with a cell per unit.
type row struct {
	scenario, peer string
	vals           map[string]cell
}

// results holds the rows in input order.
type results struct {
	rows  []*row
	index map[string]*row // by scenario + "/" + peer
}

func (r *results) get(scenario, peer string) *row { return r.index[scenario+"/"+peer] }

func (r *results) scenarios() []string {
	var out []string
	for _, x := range r.rows {
		if !slices.Contains(out, x.scenario) {
			out = append(out, x.scenario)
		}
	}
	return out
}

var procSuffix = regexp.MustCompile(`-\d+$`)

// splitName turns "Sessions/Hit/nethttp-sess-2" into "Hit" and
// "nethttp-sess". It reports false for names outside BenchmarkSessions.
func splitName(name string) (scenario, peer string, ok bool) {
	name, ok = strings.CutPrefix(name, "Sessions/")
	if !ok {
		return "", "", false
	}
	name = procSuffix.ReplaceAllString(name, "")
	scenario, peer, ok = strings.Cut(name, "/")
	if !ok || scenario == "" || peer == "" {
		return "", "", false
	}
	return scenario, peer, true
}

// parse reads benchstat -format csv output. Sections start with a row
// ",<unit>,CI"; data rows are "<name>,<median>,<CI>"; lines that are not
// CSV records of that shape (the goos/cpu preamble, geomean rows, file
// headers) are skipped.
func parse(in io.Reader) (*results, error) {
	r := csv.NewReader(in)
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	res := &results{index: map[string]*row{}}
	unit := ""
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading benchstat CSV: %w", err)
		}
		if len(rec) < 2 {
			continue
		}
		if rec[0] == "" {
			if len(rec) >= 3 && rec[2] == "CI" {
				unit = rec[1]
			}
			continue
		}
		scenario, peer, ok := splitName(rec[0])
		if !ok || unit == "" {
			continue
		}
		v, err := strconv.ParseFloat(rec[1], 64)
		if err != nil {
			return nil, fmt.Errorf("value %q of %s in %s: %w", rec[1], rec[0], unit, err)
		}
		x := res.get(scenario, peer)
		if x == nil {
			x = &row{scenario: scenario, peer: peer, vals: map[string]cell{}}
			res.rows = append(res.rows, x)
			res.index[scenario+"/"+peer] = x
		}
		c := cell{v: v}
		if len(rec) >= 3 {
			c.ci = rec[2]
		}
		x.vals[unit] = c
	}
	if len(res.rows) == 0 {
		return nil, errors.New("no BenchmarkSessions rows in the input")
	}
	return res, nil
}

// framework returns the framework prefix of a peer name.
func framework(peer string) string {
	f, _, _ := strings.Cut(peer, "-")
	return f
}

// bare returns the bare row for x's framework in x's scenario, if any.
func (r *results) bare(x *row) *row {
	return r.get(x.scenario, framework(x.peer)+"-bare")
}

// scenarioDoc describes the scenarios; README.md has the details.
var scenarioDoc = map[string]string{
	"New":         "A request without a cookie whose handler writes the counter: a session is created, stored and its cookie set.",
	"Hit":         "A valid cookie; the handler reads the int counter, increments it and writes it back.",
	"Read":        "A valid cookie; the handler only reads the counter.",
	"ParallelHit": "Hit from GOMAXPROCS goroutines at once over 10k sessions created beforehand (ns/op is wall time per request).",
	"Renew":       "A login: the handler renews the session ID and keeps the data; each request carries the previous response's cookie.",
	"Mem100k":     "100k sessions created through each peer's own route into a fresh store: live heap per session (after GC) and time per session.",
	"Mem1M":       "The same with 1M sessions, for sess's memory store.",
	"Sweep1M":     "Store Get latency of live sessions while Sweep removes 1M expired ones (each Get timed with two clock reads). ctrl- is the same number of seconds of Gets with the other CPU kept busy by a goroutine that does not touch the store, i.e. the machine's own noise.",
}

func isStandard(unit string) bool {
	return unit == unitTime || unit == unitBytes || unit == unitAllocs
}

// customUnits returns the non-standard units reported in a scenario,
// in a stable, readable order.
func (r *results) customUnits(scenario string) []string {
	var units []string
	for _, x := range r.rows {
		if x.scenario != scenario {
			continue
		}
		for u := range x.vals {
			if !isStandard(u) && !slices.Contains(units, u) {
				units = append(units, u)
			}
		}
	}
	order := []string{"B/session", "sec/session", "sweep-sec", "gets/op", "p50-sec", "p99-sec", "p99.9-sec", "p99.99-sec", "max-sec", "slow-gets/op"}
	rank := func(u string) int {
		base := strings.TrimPrefix(u, "ctrl-")
		i := slices.Index(order, base)
		if i < 0 {
			i = len(order)
		}
		if base != u {
			i += len(order) + 1
		}
		return i
	}
	slices.SortStableFunc(units, func(a, b string) int {
		if d := rank(a) - rank(b); d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	return units
}

func render(w io.Writer, r *results) {
	for _, sc := range r.scenarios() {
		fmt.Fprintf(w, "### %s\n\n", sc)
		if d := scenarioDoc[sc]; d != "" {
			fmt.Fprintf(w, "%s\n\n", d)
		}
		if units := r.customUnits(sc); len(units) > 0 {
			renderCustom(w, r, sc, units)
		} else {
			renderStandard(w, r, sc)
		}
		fmt.Fprintln(w)
	}
	renderTargets(w, r)
}

func renderStandard(w io.Writer, r *results, sc string) {
	fmt.Fprintln(w, "| peer | ns/op (±CI) | B/op | allocs/op | + ns over own bare | + allocs over own bare | × own bare |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|")
	for _, x := range r.rows {
		if x.scenario != sc {
			continue
		}
		t, b, a := x.vals[unitTime], x.vals[unitBytes], x.vals[unitAllocs]
		dNs, dAllocs, ratio := "", "", ""
		if bare := r.bare(x); bare != nil && bare != x {
			bt, ba := bare.vals[unitTime], bare.vals[unitAllocs]
			dNs = signed((t.v - bt.v) * 1e9)
			dAllocs = signed(a.v - ba.v)
			if bt.v > 0 {
				ratio = fmt.Sprintf("%.1f×", t.v/bt.v)
			}
		} else if bare == x {
			dNs, dAllocs, ratio = "0", "0", "1.0× (floor)"
		}
		fmt.Fprintf(w, "| %s | %s%s | %s | %s | %s | %s | %s |\n",
			x.peer, thousands(t.v*1e9), ci(t.ci), thousands(b.v), thousands(a.v), dNs, dAllocs, ratio)
	}
}

func renderCustom(w io.Writer, r *results, sc string, units []string) {
	head := []string{"peer"}
	for _, u := range units {
		head = append(head, unitLabel(u))
	}
	fmt.Fprintf(w, "| %s |\n", strings.Join(head, " | "))
	fmt.Fprintf(w, "|---%s|\n", strings.Repeat("|---:", len(units)))
	for _, x := range r.rows {
		if x.scenario != sc {
			continue
		}
		cols := []string{x.peer}
		for _, u := range units {
			c, ok := x.vals[u]
			if !ok {
				cols = append(cols, "")
				continue
			}
			cols = append(cols, formatUnit(u, c.v)+ci(c.ci))
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(cols, " | "))
	}
}

// unitLabel names a column; benchstat turns a "-ns" metric into "-sec"
// (in seconds), which is shown in readable time units again.
func unitLabel(u string) string {
	switch {
	case u == "sec/session":
		return "time/session"
	case strings.HasSuffix(u, "-sec"):
		return strings.TrimSuffix(u, "-sec")
	}
	return u
}

func formatUnit(u string, v float64) string {
	if u == "sec/session" || strings.HasSuffix(u, "-sec") {
		return duration(v)
	}
	if v == math.Trunc(v) || math.Abs(v) >= 1000 {
		return thousands(v)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

// duration formats seconds as ns, µs or ms.
func duration(sec float64) string {
	ns := sec * 1e9
	switch {
	case ns < 10_000:
		return thousands(ns) + " ns"
	case ns < 1_000_000:
		return strconv.FormatFloat(ns/1e3, 'f', 1, 64) + " µs"
	}
	return strconv.FormatFloat(ns/1e6, 'f', 2, 64) + " ms"
}

func ci(s string) string {
	if s == "" || s == "∞" || s == "?" {
		return ""
	}
	return " (±" + s + ")"
}

func signed(v float64) string {
	if v >= 0 {
		return "+" + thousands(v)
	}
	return thousands(v)
}

// thousands rounds v and groups its digits with commas.
func thousands(v float64) string {
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// target is one of the project's performance targets for sess.
type target struct {
	name string
	// check returns the measured value as text and whether the target is
	// met; ok false when the rows it needs are missing.
	check func(r *results, peer string) (measured string, met, ok bool)
}

// overBare returns the time and allocation cost of peer over its bare
// handler in a scenario.
func overBare(r *results, scenario, peer string) (ns, allocs float64, ok bool) {
	x := r.get(scenario, peer)
	if x == nil {
		return 0, 0, false
	}
	bare := r.bare(x)
	if bare == nil {
		return 0, 0, false
	}
	return (x.vals[unitTime].v - bare.vals[unitTime].v) * 1e9, x.vals[unitAllocs].v - bare.vals[unitAllocs].v, true
}

func costTarget(scenario string, maxNs, maxNsFiber, maxAllocs float64) target {
	name := fmt.Sprintf("%s ≤ %s ns", scenario, thousands(maxNs))
	if maxNsFiber != maxNs {
		name += fmt.Sprintf(" (fiber ≤ %s ns)", thousands(maxNsFiber))
	}
	if maxAllocs >= 0 {
		name += fmt.Sprintf(" and ≤ %s allocs", thousands(maxAllocs))
	}
	name += " over own bare"
	return target{name: name, check: func(r *results, peer string) (string, bool, bool) {
		ns, allocs, ok := overBare(r, scenario, peer)
		if !ok {
			return "", false, false
		}
		limit := maxNs
		if framework(peer) == "fiber" {
			limit = maxNsFiber
		}
		met := ns <= limit && (maxAllocs < 0 || allocs <= maxAllocs)
		return fmt.Sprintf("%s ns, %s allocs", signed(ns), signed(allocs)), met, true
	}}
}

var targets = []target{
	costTarget("Hit", 1000, 800, 10),
	costTarget("Read", 400, 400, 4),
	costTarget("New", 1500, 1500, -1),
	{name: "ParallelHit per request no slower than serial Hit", check: func(r *results, peer string) (string, bool, bool) {
		p, h := r.get("ParallelHit", peer), r.get("Hit", peer)
		if p == nil || h == nil {
			return "", false, false
		}
		pv, hv := p.vals[unitTime].v, h.vals[unitTime].v
		return fmt.Sprintf("%s vs %s ns", thousands(pv*1e9), thousands(hv*1e9)), pv <= hv, true
	}},
	{name: "Memory store ≤ 150 B live heap per session at 100k", check: func(r *results, peer string) (string, bool, bool) {
		x := r.get("Mem100k", peer)
		if x == nil {
			return "", false, false
		}
		c, ok := x.vals["B/session"]
		return formatUnit("B/session", c.v) + " B", c.v <= 150, ok
	}},
	{name: "Sweep of 1M expired never blocks a Get > 1 ms (max; compare ctrl-max)", check: func(r *results, peer string) (string, bool, bool) {
		x := r.get("Sweep1M", peer)
		if x == nil {
			return "", false, false
		}
		m, ok := x.vals["max-sec"]
		if !ok {
			return "", false, false
		}
		s := "max " + duration(m.v)
		if c, ok := x.vals["ctrl-max-sec"]; ok {
			s += ", ctrl-max " + duration(c.v)
		}
		return s, m.v <= 1e-3, true
	}},
}

// renderTargets lists every target for every sess row it applies to.
func renderTargets(w io.Writer, r *results) {
	var sessPeers []string
	for _, x := range r.rows {
		if (strings.HasSuffix(x.peer, "-sess") || strings.HasPrefix(x.peer, "sess-")) && !slices.Contains(sessPeers, x.peer) {
			sessPeers = append(sessPeers, x.peer)
		}
	}
	fmt.Fprintln(w, "### Targets")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| target | peer | measured | met |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for _, t := range targets {
		for _, p := range sessPeers {
			measured, met, ok := t.check(r, p)
			if !ok {
				continue
			}
			verdict := "missed"
			if met {
				verdict = "met"
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s |\n", t.name, p, measured, verdict)
		}
	}
}
