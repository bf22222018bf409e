package conformance_test

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/gosess/sess/conformance"
	sess "github.com/gosess/sess/core"
)

// twoMount is the reference two-Manager chain: core middleware, sessions
// looked up with pick.
func twoMount(pick func(r *http.Request, m *sess.Manager) *sess.Session) conformance.TwoMount {
	return func(_ *testing.T, outer, inner *sess.Manager, h conformance.TwoHandler) http.Handler {
		app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			from, _ := sess.FromContext(r.Context())
			_, _ = io.WriteString(w, h(r.URL.Query().Get, pick(r, outer), pick(r, inner), from))
		})
		return outer.Wrap(inner.Wrap(app))
	}
}

func fromManager(r *http.Request, m *sess.Manager) *sess.Session {
	s, _ := sess.FromContextFor(r.Context(), m)
	return s
}

// innermost is the defect FromManager fixes: every accessor returns the
// innermost Manager's session.
func innermost(r *http.Request, _ *sess.Manager) *sess.Session {
	s, _ := sess.FromContext(r.Context())
	return s
}

func TestRunTwoManagers(t *testing.T) { conformance.RunTwoManagers(t, twoMount(fromManager)) }

const brokenTwoEnv = "CONFORMANCE_BROKEN_TWO_MANAGERS"

// TestBrokenTwoManagers runs the broken two-Manager mount when
// TestRunTwoManagersCatchesInnermost asks for it.
func TestBrokenTwoManagers(t *testing.T) {
	if os.Getenv(brokenTwoEnv) == "" {
		t.Skip("run by TestRunTwoManagersCatchesInnermost in a subprocess")
	}
	conformance.RunTwoManagers(t, twoMount(innermost))
}

// TestRunTwoManagersCatchesInnermost checks that an accessor returning the
// innermost session for every Manager fails RunTwoManagers.
func TestRunTwoManagersCatchesInnermost(t *testing.T) {
	if os.Getenv(brokenTwoEnv) != "" {
		t.Skip("already in a subprocess")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestBrokenTwoManagers$", "-test.count=1")
	cmd.Env = append(os.Environ(), brokenTwoEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("RunTwoManagers passed an accessor that returns the innermost session:\n%s", out)
	}
	if _, ok := err.(*exec.ExitError); !ok {
		t.Fatalf("running the subprocess: %v", err)
	}
	if !strings.Contains(string(out), "each Manager's session must keep its own data") {
		t.Errorf("output lacks the invariant:\n%s", out)
	}
}
