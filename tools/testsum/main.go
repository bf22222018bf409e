// Command testsum runs go test and ends with what did not run: every
// skipped test, grouped by the reason its t.Skip gave (which says how to run
// it), and a closing count. Plain go test prints only "ok" for a package
// whose Redis or browser tests were all skipped; testsum makes that visible.
//
// Usage, from the repository root:
//
//	go run ./tools/testsum [go test flags and packages]
//
// With no arguments it runs "go test -race -count=1 work", every test of
// every module in go.work. Output is go test's own for packages and
// failures, then the skip summary and a line "N passed, N failed,
// N skipped". The exit status is go test's.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"regexp"
	"slices"
	"strings"
)

// event is one line of go test -json (cmd/test2json).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
	// ImportPath names the package of build-output events.
	ImportPath string
}

type key struct{ pkg, test string }

// skip is one skipped test and why.
type skip struct {
	pkg, test, reason string
}

// summary collects what the run did.
type summary struct {
	out                     io.Writer
	pending                 map[key][]string // test output not yet resolved
	passed, failed, skipped int
	skips                   []skip
}

func newSummary(out io.Writer) *summary {
	return &summary{out: out, pending: map[key][]string{}}
}

// quiet lines of package output that plain go test does not print either.
var quiet = map[string]bool{"PASS\n": true, "FAIL\n": true, "testing: warning: no tests to run\n": true}

// add takes one event.
func (s *summary) add(e event) {
	switch e.Action {
	case "build-output":
		fmt.Fprint(s.out, e.Output)
		return
	case "output":
		if e.Test == "" {
			if !quiet[e.Output] {
				fmt.Fprint(s.out, e.Output)
			}
			return
		}
		k := key{e.Package, e.Test}
		s.pending[k] = append(s.pending[k], e.Output)
		return
	}
	if e.Test == "" {
		return
	}
	k := key{e.Package, e.Test}
	switch e.Action {
	case "pass":
		s.passed++
	case "fail":
		s.failed++
		for _, line := range s.pending[k] {
			fmt.Fprint(s.out, line)
		}
	case "skip":
		s.skipped++
		s.skips = append(s.skips, skip{e.Package, e.Test, skipReason(s.pending[k])})
	default:
		return
	}
	delete(s.pending, k)
}

// location is the "file_test.go:12: " prefix testing puts before a log line.
var location = regexp.MustCompile(`^\s*[\w.-]+\.go:\d+: `)

// skipReason returns the message a skipped test logged, without go test's
// framing lines and source locations.
func skipReason(lines []string) string {
	var msg []string
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- ") {
			continue
		}
		msg = append(msg, strings.TrimSpace(location.ReplaceAllString(l, "")))
	}
	if len(msg) == 0 {
		return "(no reason given)"
	}
	return strings.Join(msg, " ")
}

// report prints the skip summary and the closing count.
func (s *summary) report() {
	if len(s.skips) > 0 {
		groups := map[string][]skip{}
		var reasons []string
		for _, k := range s.skips {
			if groups[k.reason] == nil {
				reasons = append(reasons, k.reason)
			}
			groups[k.reason] = append(groups[k.reason], k)
		}
		slices.SortFunc(reasons, func(a, b string) int { return len(groups[b]) - len(groups[a]) })
		fmt.Fprintf(s.out, "\nSKIPPED: %d tests did not run. By reason (the reason says how to run them):\n", len(s.skips))
		for _, r := range reasons {
			g := groups[r]
			pkgs := map[string]bool{}
			var names []string
			for _, k := range g {
				pkgs[k.pkg] = true
				if len(names) < 3 {
					names = append(names, path.Base(k.pkg)+"."+k.test)
				}
			}
			more := ""
			if len(g) > len(names) {
				more = fmt.Sprintf(", and %d more", len(g)-len(names))
			}
			pkgList := make([]string, 0, len(pkgs))
			for p := range pkgs {
				pkgList = append(pkgList, p)
			}
			slices.Sort(pkgList)
			fmt.Fprintf(s.out, "- %d in %s: %s\n    %s%s\n", len(g), strings.Join(pkgList, ", "), r, strings.Join(names, ", "), more)
		}
	}
	fmt.Fprintf(s.out, "\n%d passed, %d failed, %d skipped\n", s.passed, s.failed, s.skipped)
}

func main() {
	args := os.Args[1:]
	if len(args) == 0 {
		args = []string{"-race", "-count=1", "work"}
	}
	cmd := exec.Command("go", append([]string{"test", "-json"}, args...)...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		fmt.Fprintln(os.Stderr, "testsum:", err)
		os.Exit(2)
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "testsum:", err)
		os.Exit(2)
	}
	s := newSummary(os.Stdout)
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			fmt.Println(sc.Text()) // not an event: pass it on
			continue
		}
		s.add(e)
	}
	werr := cmd.Wait()
	s.report()
	var exit *exec.ExitError
	switch {
	case errors.As(werr, &exit):
		os.Exit(exit.ExitCode())
	case werr != nil:
		fmt.Fprintln(os.Stderr, "testsum:", werr)
		os.Exit(2)
	}
}
