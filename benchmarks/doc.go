// Package benchmarks compares sess with the session middlewares people use
// today, side by side in one go test process: scs, gorilla/sessions with a
// server-side memory store, gin-contrib/sessions, echo-contrib/session and
// fiber v2's session middleware, each next to its framework's bare handler.
//
// The package holds no library code; everything lives in its tests. Run the
// whole comparison and render the markdown table with
//
//	./run.sh            # writes results.md
//
// or a part of it with go test directly, for example
//
//	go test -run '^$' -bench 'Sessions/Hit/' -benchmem
//
// Sub-benchmarks are named BenchmarkSessions/<Scenario>/<framework>-<library>,
// so that benchstat can table them and cmd/table can subtract each
// framework's bare handler. TestPeers checks that every setup really creates,
// increments, reads and renews its session before any number is trusted.
// README.md explains each scenario and the fairness rules.
package benchmarks
