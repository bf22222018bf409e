package pgstore

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// ownedPostgres is a PostgreSQL server started by a test in its own data
// directory on a free loopback port, so the test may stop, pause and
// restart it. It never touches a server it did not start.
type ownedPostgres struct {
	bin  string // directory of initdb and postgres
	data string
	port int
	cred *syscall.Credential // nil: run as ourselves

	mu  sync.Mutex
	cmd *exec.Cmd
	log *bytes.Buffer
}

// skipOrFail skips (or, with SESS_REQUIRE_POSTGRES=1, fails) a test that
// needs a server of its own.
func skipOrFail(t testing.TB, why string) {
	t.Helper()
	msg := needsPostgresMsg + " binaries to start a server of its own: " + why +
		" (install the postgresql package, which puts initdb and postgres in /usr/lib/postgresql/<version>/bin)"
	if os.Getenv("SESS_REQUIRE_POSTGRES") == "1" {
		t.Fatalf("%s; SESS_REQUIRE_POSTGRES=1 forbids skipping", msg)
	}
	t.Skip(msg)
}

// postgresBin returns the directory holding initdb and postgres: the
// newest /usr/lib/postgresql/<version>/bin, else the one of initdb in PATH.
func postgresBin() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(a)))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(b)))
		return vb - va
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	p, err := exec.LookPath("initdb")
	if err != nil {
		return "", fmt.Errorf("no initdb in /usr/lib/postgresql/*/bin or PATH")
	}
	return filepath.Dir(p), nil
}

// startOwnedPostgres initialises a cluster in a temporary directory and
// starts it on a free loopback port. initdb and postgres refuse to run as
// root, so as root they run as the "postgres" OS user. The server is
// killed when t ends.
func startOwnedPostgres(t *testing.T) *ownedPostgres {
	t.Helper()
	bin, err := postgresBin()
	if err != nil {
		skipOrFail(t, err.Error())
	}
	pg := &ownedPostgres{bin: bin}
	dir := t.TempDir()
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			skipOrFail(t, "running as root and there is no postgres OS user to run initdb as")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		pg.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		// The server's user must reach the directory: t.TempDir's parent
		// is private to us.
		if err := os.Chmod(filepath.Dir(dir), 0o711); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	pg.data = filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", pg.data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync", "--no-instructions")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: pg.cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	pg.port = freePort(t)
	t.Cleanup(pg.kill)
	pg.Start(t)
	return pg
}

// DSN is the connection string of the owned server.
func (pg *ownedPostgres) DSN() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable&connect_timeout=5", pg.port)
}

// Start starts the server (again) on its port and waits until it accepts
// connections.
func (pg *ownedPostgres) Start(t *testing.T) {
	t.Helper()
	pg.mu.Lock()
	cmd := exec.Command(filepath.Join(pg.bin, "postgres"), "-D", pg.data, "-p", strconv.Itoa(pg.port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "fsync=off",
		"-c", "max_connections=100", "-c", "shared_buffers=16MB")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: pg.cred}
	pg.log = &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = pg.log, pg.log
	if err := cmd.Start(); err != nil {
		pg.mu.Unlock()
		t.Fatalf("starting postgres: %v", err)
	}
	pg.cmd = cmd
	pg.mu.Unlock()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		c, err := pgx.Connect(ctx, pg.DSN())
		if err == nil {
			_ = c.Close(ctx)
			cancel()
			return
		}
		cancel()
		if time.Now().After(deadline) {
			pg.mu.Lock()
			out := pg.log.String()
			pg.mu.Unlock()
			t.Fatalf("postgres on port %d did not accept connections: %v\n%s", pg.port, err, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop shuts the server down (fast shutdown: clients are disconnected,
// data is kept) and waits for it to exit.
func (pg *ownedPostgres) Stop(t *testing.T) {
	t.Helper()
	pg.mu.Lock()
	defer pg.mu.Unlock()
	if pg.cmd == nil {
		return
	}
	_ = pg.cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- pg.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = pg.cmd.Process.Kill()
		<-done
		t.Errorf("postgres did not stop within 30 s; killed")
	}
	pg.cmd = nil
}

// Pause stops every process of the server (SIGSTOP to the postmaster and
// to each of its children, which are group leaders of their own):
// connections stay open and nothing answers, as with a hung host.
func (pg *ownedPostgres) Pause(t *testing.T) { pg.signal(t, syscall.SIGSTOP) }

// Resume continues a paused server.
func (pg *ownedPostgres) Resume(t *testing.T) { pg.signal(t, syscall.SIGCONT) }

func (pg *ownedPostgres) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	pg.mu.Lock()
	defer pg.mu.Unlock()
	if pg.cmd == nil {
		t.Fatalf("signal %v: server not running", sig)
	}
	pids := append([]int{pg.cmd.Process.Pid}, children(pg.cmd.Process.Pid)...)
	for _, pid := range pids {
		if err := syscall.Kill(pid, sig); err != nil && pid == pg.cmd.Process.Pid {
			t.Fatalf("signal %v: %v", sig, err)
		}
	}
}

// children returns the processes whose parent is pid, from /proc.
func children(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			out = append(out, child)
		}
	}
	return out
}

// kill ends the server whatever its state, for cleanup.
func (pg *ownedPostgres) kill() {
	pg.mu.Lock()
	defer pg.mu.Unlock()
	if pg.cmd == nil {
		return
	}
	pid := pg.cmd.Process.Pid
	for _, c := range children(pid) {
		_ = syscall.Kill(c, syscall.SIGCONT)
	}
	_ = syscall.Kill(pid, syscall.SIGCONT)
	_ = syscall.Kill(pid, syscall.SIGQUIT) // immediate shutdown
	done := make(chan struct{})
	go func() { _ = pg.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(pid, syscall.SIGKILL)
		<-done
	}
	pg.cmd = nil
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
