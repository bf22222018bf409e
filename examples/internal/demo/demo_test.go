package demo_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"regexp"
	"strings"
	"testing"

	sess "github.com/gosess/sess/core"
	"github.com/gosess/sess/examples/internal/demo"
)

const secret = "test-secret-0123456789abcdef-0123456789"

func env(vals map[string]string) func(string) string {
	return func(k string) string { return vals[k] }
}

func TestParseFlags(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		want    demo.Options
		wantErr bool
	}{
		{args: nil, want: demo.Options{Addr: "127.0.0.1:8080"}},
		{args: []string{"-addr", ":9000", "-secure", "-redis", "localhost:6379"}, want: demo.Options{Addr: ":9000", Secure: true, Redis: "localhost:6379"}},
		{args: []string{"-addr=[::1]:0"}, want: demo.Options{Addr: "[::1]:0"}},
		{args: []string{"-postgres", "postgres://app@db/app"}, want: demo.Options{Addr: "127.0.0.1:8080", Postgres: "postgres://app@db/app"}},
		{args: []string{"-postgres", "postgres://app@db/app", "-redis", "localhost:6379"}, wantErr: true},
		{args: []string{"-nope"}, wantErr: true},
		{args: []string{"extra"}, wantErr: true},
		{args: []string{"-addr"}, wantErr: true},
	} {
		var out bytes.Buffer
		got, err := demo.ParseFlags("demo", tc.args, &out)
		if (err != nil) != tc.wantErr {
			t.Errorf("ParseFlags(%q): error %v, want error %v", tc.args, err, tc.wantErr)
			continue
		}
		if err == nil && got != tc.want {
			t.Errorf("ParseFlags(%q) = %+v, want %+v", tc.args, got, tc.want)
		}
		if err != nil && !strings.Contains(out.String(), "Usage: demo") {
			t.Errorf("ParseFlags(%q): no usage message in %q", tc.args, out.String())
		}
	}
	var out bytes.Buffer
	if _, err := demo.ParseFlags("demo", []string{"-h"}, &out); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: error %v, want flag.ErrHelp", err)
	}
	for _, f := range []string{"-addr", "-secure", "-redis", "-postgres", demo.SecretEnv} {
		if !strings.Contains(out.String(), f) {
			t.Errorf("usage does not mention %s:\n%s", f, out.String())
		}
	}
}

func TestSecret(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))

	got, err := demo.Secret(env(map[string]string{demo.SecretEnv: secret}), logger)
	if err != nil || string(got) != secret {
		t.Errorf("Secret with %s set = %q, %v; want the variable's value", demo.SecretEnv, got, err)
	}
	if logs.Len() != 0 {
		t.Errorf("Secret with %s set logged %q", demo.SecretEnv, logs.String())
	}

	if _, err := demo.Secret(env(map[string]string{demo.SecretEnv: "short"}), logger); err == nil || !strings.Contains(err.Error(), demo.SecretEnv) {
		t.Errorf("Secret with a 5-byte secret: error %v, want one naming %s", err, demo.SecretEnv)
	}

	a, err := demo.Secret(env(nil), logger)
	if err != nil || len(a) < sess.MinSecretLen {
		t.Fatalf("Secret without %s = %d bytes, %v", demo.SecretEnv, len(a), err)
	}
	b, _ := demo.Secret(env(nil), logger)
	if bytes.Equal(a, b) {
		t.Error("two random secrets are equal")
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "will not survive a restart") {
		t.Errorf("Secret without %s logged %q, want a warning about restarts", demo.SecretEnv, logs.String())
	}
}

func TestNewManager(t *testing.T) {
	logger := slog.New(slog.DiscardHandler)
	ctx := context.Background()
	m, closeFn, err := demo.NewManager(ctx, demo.Options{}, env(map[string]string{demo.SecretEnv: secret}), logger)
	if err != nil {
		t.Fatal(err)
	}
	if m.CookieName() != "sid" {
		t.Errorf("cookie name %q, want sid", m.CookieName())
	}
	if _, ok := m.Store().(*sess.MemoryStore); !ok {
		t.Errorf("store is %T, want the memory store", m.Store())
	}
	if err := closeFn(); err != nil {
		t.Errorf("close: %v", err)
	}

	if _, _, err := demo.NewManager(ctx, demo.Options{}, env(map[string]string{demo.SecretEnv: "short"}), logger); err == nil {
		t.Error("NewManager accepted a short secret")
	}

	// A Redis address where nothing listens fails at once, clearly.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, _, err = demo.NewManager(ctx, demo.Options{Redis: addr}, env(map[string]string{demo.SecretEnv: secret}), logger)
	if err == nil || !strings.Contains(err.Error(), "redis at "+addr) {
		t.Errorf("NewManager with no Redis at %s: error %v", addr, err)
	}
	// So does a PostgreSQL DSN where nothing listens.
	dsn := "postgres://postgres@" + addr + "/postgres?sslmode=disable"
	_, _, err = demo.NewManager(ctx, demo.Options{Postgres: dsn}, env(map[string]string{demo.SecretEnv: secret}), logger)
	if err == nil || !strings.Contains(err.Error(), "postgres at 127.0.0.1 does not answer") {
		t.Errorf("NewManager with no PostgreSQL at %s: error %v", addr, err)
	}
}

func TestRunErrors(t *testing.T) {
	logger := slog.New(slog.DiscardHandler)
	getenv := env(map[string]string{demo.SecretEnv: secret})
	serve := func(context.Context, net.Listener, *sess.Manager) error {
		t.Error("serve called")
		return nil
	}
	ctx := context.Background()
	if err := demo.Run(ctx, "demo", []string{"-bogus"}, getenv, logger, serve); err == nil {
		t.Error("Run with a bad flag: nil error")
	}
	if err := demo.Run(ctx, "demo", nil, env(map[string]string{demo.SecretEnv: "short"}), logger, serve); err == nil {
		t.Error("Run with a short secret: nil error")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if err := demo.Run(ctx, "demo", []string{"-addr", ln.Addr().String()}, getenv, logger, serve); err == nil {
		t.Error("Run on a busy address: nil error")
	}
	failing := func(context.Context, net.Listener, *sess.Manager) error { return io.ErrUnexpectedEOF }
	if err := demo.Run(ctx, "demo", []string{"-addr", "127.0.0.1:0"}, getenv, logger, failing); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("Run with a failing serve: error %v, want it wrapped", err)
	}
}

func TestValidUser(t *testing.T) {
	for _, name := range []string{"a", "alice", "zoë", "O'Brien & Co", "<script>", "名前", "a b", strings.Repeat("x", demo.MaxUserLen)} {
		if err := demo.ValidUser(name); err != nil {
			t.Errorf("ValidUser(%q) = %v, want nil", name, err)
		}
	}
	for _, name := range []string{"", " a", "a ", "a\x00b", "a\nb", "a\tb", "\x1b[31m", "\u200b", "\u202eabc", "\xff", "\xc0\x80", "a\u00a0b", "\ufeff", strings.Repeat("x", demo.MaxUserLen+1), strings.Repeat("é", demo.MaxUserLen/2+1)} {
		if err := demo.ValidUser(name); err == nil {
			t.Errorf("ValidUser(%q) = nil, want an error", name)
		}
	}
}

func TestPage(t *testing.T) {
	page := string(demo.Page("test", 7, `<img src=x onerror=alert(1)>&"'`))
	for _, want := range []string{
		`<output id="counter">7</output>`,
		`<output id="user">&lt;img src=x onerror=alert(1)&gt;&amp;&#34;&#39;</output>`,
		`<title>sess demo (test)</title>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	// Every inline script and style is allowed by its hash in the policy,
	// and nothing else is.
	for _, re := range []*regexp.Regexp{regexp.MustCompile(`(?s)<script>(.*?)</script>`), regexp.MustCompile(`(?s)<style>(.*?)</style>`)} {
		matches := re.FindAllStringSubmatch(page, -1)
		if len(matches) != 1 {
			t.Fatalf("page has %d matches of %s, want 1", len(matches), re)
		}
		sum := sha256.Sum256([]byte(matches[0][1]))
		hash := fmt.Sprintf("'sha256-%s'", base64.StdEncoding.EncodeToString(sum[:]))
		if !strings.Contains(demo.ContentSecurityPolicy, hash) {
			t.Errorf("Content-Security-Policy %q lacks %s for %.30q", demo.ContentSecurityPolicy, hash, matches[0][1])
		}
	}
	if strings.Contains(demo.ContentSecurityPolicy, "unsafe") {
		t.Errorf("Content-Security-Policy allows unsafe sources: %s", demo.ContentSecurityPolicy)
	}
	if demo.PageHeaders["Content-Security-Policy"] != demo.ContentSecurityPolicy {
		t.Error("PageHeaders lacks the Content-Security-Policy")
	}
}

func ExampleValidUser() {
	for _, name := range []string{"alice", "", "bob\n", strings.Repeat("x", 40)} {
		fmt.Printf("%q: %v\n", name, demo.ValidUser(name))
	}
	// Output:
	// "alice": <nil>
	// "": user name is empty
	// "bob\n": user name contains a control or invisible character
	// "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx": user name is longer than 32 bytes
}
