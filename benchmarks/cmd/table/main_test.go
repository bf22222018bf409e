package main

import (
	"os"
	"strings"
	"testing"
)

// sample is benchstat -format csv output, preamble and geomean included.
const sample = `goos: linux
goarch: amd64
pkg: github.com/gosess/sess/benchmarks
cpu: AMD EPYC
,raw.txt,
,sec/op,CI
Sessions/Hit/nethttp-bare-2,7.5e-07,2%
Sessions/Hit/nethttp-sess-2,1.6e-06,1%
Sessions/Hit/fiber-sess-2,9e-07,∞
geomean,1e-06,

,raw.txt,
,allocs/op,CI
Sessions/Hit/nethttp-bare-2,11,0%
Sessions/Hit/nethttp-sess-2,19,0%
Sessions/Hit/fiber-sess-2,12,0%
geomean,14,

,raw.txt,
,B/session,CI
Sessions/Mem100k/nethttp-sess-2,120.5,1%
geomean,120.5,

,raw.txt,
,sec/session,CI
Sessions/Mem100k/nethttp-sess-2,2.1e-06,3%
geomean,2.1e-06,
`

func Example() {
	res, err := parse(strings.NewReader(sample))
	if err != nil {
		panic(err)
	}
	render(os.Stdout, res)
	// Output:
	// ### Hit
	//
	// A valid cookie; the handler reads the int counter, increments it and writes it back.
	//
	// | peer | ns/op (±CI) | B/op | allocs/op | + ns over own bare | + allocs over own bare | × own bare |
	// |---|---:|---:|---:|---:|---:|---:|
	// | nethttp-bare | 750 (±2%) | 0 | 11 | 0 | 0 | 1.0× (floor) |
	// | nethttp-sess | 1,600 (±1%) | 0 | 19 | +850 | +8 | 2.1× |
	// | fiber-sess | 900 | 0 | 12 |  |  |  |
	//
	// ### Mem100k
	//
	// 100k sessions created through each peer's own route into a fresh store: live heap per session (after GC) and time per session.
	//
	// | peer | B/session | time/session |
	// |---|---:|---:|
	// | nethttp-sess | 120.5 (±1%) | 2,100 ns (±3%) |
	//
	// ### Targets
	//
	// | target | peer | measured | met |
	// |---|---|---|---|
	// | Hit ≤ 1,000 ns (fiber ≤ 800 ns) and ≤ 10 allocs over own bare | nethttp-sess | +850 ns, +8 allocs | met |
	// | Memory store ≤ 150 B live heap per session at 100k | nethttp-sess | 120.5 B | met |
}

func TestSplitName(t *testing.T) {
	for _, tc := range []struct {
		in, scenario, peer string
		ok                 bool
	}{
		{"Sessions/Hit/nethttp-bare-2", "Hit", "nethttp-bare", true},
		{"Sessions/Sweep1M/sess-memstore-16", "Sweep1M", "sess-memstore", true},
		{"Sessions/Hit/gin-contrib-sessions", "Hit", "gin-contrib-sessions", true},
		{"Other/Hit/x-2", "", "", false},
		{"Sessions/Hit", "", "", false},
		{"geomean", "", "", false},
	} {
		scenario, peer, ok := splitName(tc.in)
		if scenario != tc.scenario || peer != tc.peer || ok != tc.ok {
			t.Errorf("splitName(%q) = %q, %q, %v; want %q, %q, %v", tc.in, scenario, peer, ok, tc.scenario, tc.peer, tc.ok)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for name, in := range map[string]string{
		"empty":         "",
		"no sessions":   ",f,\n,sec/op,CI\nBenchmarkOther-2,1,2%\n",
		"bad value":     ",f,\n,sec/op,CI\nSessions/Hit/x-bare-2,abc,2%\n",
		"preamble only": "goos: linux\ncpu: x\n",
	} {
		if _, err := parse(strings.NewReader(in)); err == nil {
			t.Errorf("%s: parse succeeded, want an error", name)
		}
	}
}

func TestFormatting(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{thousands(0), "0"},
		{thousands(999.6), "1,000"},
		{thousands(-1234567), "-1,234,567"},
		{signed(-3.2), "-3"},
		{signed(12), "+12"},
		{duration(6.4e-7), "640 ns"},
		{duration(3.7606e-3), "3.76 ms"},
		{duration(1.274e-4), "127.4 µs"},
		{ci("∞"), ""},
		{ci("3%"), " (±3%)"},
		{ci("?"), ""},
		{unitLabel("p99.9-sec"), "p99.9"},
		{unitLabel("gets/op"), "gets/op"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
