package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// feed runs the summary over go test -json lines.
func feed(t *testing.T, jsonLines string) string {
	t.Helper()
	var out strings.Builder
	s := newSummary(&out)
	for _, line := range strings.Split(strings.TrimSpace(jsonLines), "\n") {
		var e event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("bad test input %q: %v", line, err)
		}
		s.add(e)
	}
	s.report()
	return out.String()
}

func TestSummaryGroupsSkipsByReason(t *testing.T) {
	got := feed(t, `
{"Action":"run","Package":"p/redis","Test":"TestA"}
{"Action":"output","Package":"p/redis","Test":"TestA","Output":"=== RUN   TestA\n"}
{"Action":"output","Package":"p/redis","Test":"TestA","Output":"    helpers_test.go:54: needs Redis at 127.0.0.1:6379 (start one: redis-server)\n"}
{"Action":"output","Package":"p/redis","Test":"TestA","Output":"--- SKIP: TestA (0.00s)\n"}
{"Action":"skip","Package":"p/redis","Test":"TestA"}
{"Action":"output","Package":"p/redis","Test":"TestB","Output":"    helpers_test.go:54: needs Redis at 127.0.0.1:6379 (start one: redis-server)\n"}
{"Action":"skip","Package":"p/redis","Test":"TestB"}
{"Action":"output","Package":"p/web","Test":"TestBrowser","Output":"    browser.go:38: chromium not found; install it with: apt-get install -y chromium\n"}
{"Action":"skip","Package":"p/web","Test":"TestBrowser"}
{"Action":"pass","Package":"p/web","Test":"TestOK"}
{"Action":"output","Package":"p/web","Output":"PASS\n"}
{"Action":"output","Package":"p/web","Output":"ok  \tp/web\t0.1s\n"}
{"Action":"pass","Package":"p/web"}
`)
	for _, want := range []string{
		"ok  \tp/web\t0.1s\n",
		"SKIPPED: 3 tests did not run",
		"- 2 in p/redis: needs Redis at 127.0.0.1:6379 (start one: redis-server)\n    redis.TestA, redis.TestB\n",
		"- 1 in p/web: chromium not found; install it with: apt-get install -y chromium\n",
		"\n1 passed, 0 failed, 3 skipped\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q; got:\n%s", want, got)
		}
	}
	if strings.Contains(got, "PASS\n") || strings.Contains(got, "=== RUN") {
		t.Errorf("summary repeats go test's framing lines:\n%s", got)
	}
}

func TestSummaryPrintsFailuresOnly(t *testing.T) {
	got := feed(t, `
{"Action":"output","Package":"p","Test":"TestGood","Output":"    x_test.go:1: noise of a passing test\n"}
{"Action":"pass","Package":"p","Test":"TestGood"}
{"Action":"output","Package":"p","Test":"TestBad","Output":"--- FAIL: TestBad (0.00s)\n"}
{"Action":"output","Package":"p","Test":"TestBad","Output":"    x_test.go:9: got 1, want 2\n"}
{"Action":"fail","Package":"p","Test":"TestBad"}
{"Action":"build-output","ImportPath":"q","Output":"q/x.go:3:1: syntax error\n"}
`)
	if strings.Contains(got, "noise of a passing test") {
		t.Errorf("a passing test's output was printed:\n%s", got)
	}
	for _, want := range []string{"--- FAIL: TestBad", "got 1, want 2", "q/x.go:3:1: syntax error", "\n1 passed, 1 failed, 0 skipped\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q; got:\n%s", want, got)
		}
	}
	if strings.Contains(got, "SKIPPED") {
		t.Errorf("a run without skips printed a skip summary:\n%s", got)
	}
}

// TestRealGoTest runs the command on a throwaway module with a passing, a
// skipping and no failing test, through the real go test -json.
func TestRealGoTest(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a throwaway module; run without -short")
	}
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/m\n\ngo 1.25\n")
	write("m_test.go", `package m

import "testing"

func TestPass(t *testing.T) {}

func TestNeedsService(t *testing.T) { t.Skip("needs a thing; start it with: thing --start") }
`)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, "-count=1", "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "TESTSUM_MAIN=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("testsum on a passing module failed: %v\n%s", err, out)
	}
	for _, want := range []string{"ok  \texample.com/m", "- 1 in example.com/m: needs a thing; start it with: thing --start", "1 passed, 0 failed, 1 skipped"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q; got:\n%s", want, out)
		}
	}
}

// TestMain lets TestRealGoTest run this test binary as the command itself.
func TestMain(m *testing.M) {
	if os.Getenv("TESTSUM_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}
