package pgtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/beignet-go/beignet/internal/testserver"
)

// cluster is a private PostgreSQL cluster in a temporary directory.
type cluster struct {
	dir  string
	proc *testserver.Process
	dsn  string
}

// startCluster runs initdb (from PATH or binDirs) into a new temporary
// directory, then postgres on a free loopback port, and waits until it
// accepts connections.
func startCluster(binDirs ...string) (*cluster, error) {
	initdb, err := testserver.LookPath("initdb", "postgresql", binDirs...)
	if err != nil {
		return nil, err
	}
	postgres, err := testserver.LookPath("postgres", "postgresql", filepath.Dir(initdb))
	if err != nil {
		return nil, err
	}
	cred, err := unprivileged()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "beignet-pgtest-")
	if err != nil {
		return nil, err
	}
	c := &cluster{dir: dir}
	if err := c.start(initdb, postgres, cred); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return c, nil
}

func (c *cluster) start(initdb, postgres string, cred *syscall.Credential) error {
	if cred != nil {
		if err := os.Chown(c.dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return err
		}
	}
	data := filepath.Join(c.dir, "data")
	// Trust auth is written into this cluster's own pg_hba.conf; -N skips
	// the fsyncs a throwaway cluster does not need.
	cmd := exec.Command(initdb, "-D", data, "-U", "postgres", "-A", "trust", "-N", "-E", "UTF8", "--locale=C")
	cmd.Dir = c.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Credential: cred}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %w: %s", err, strings.TrimSpace(string(out)))
	}
	port, err := testserver.FreePort()
	if err != nil {
		return err
	}
	c.proc, err = testserver.Start(postgres, []string{
		"-D", data, "-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories=", // TCP only: no socket file to clash over
		"-c", "max_connections=200",
		// Durability buys nothing in a cluster deleted after the tests.
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
	}, cred)
	if err != nil {
		return err
	}
	c.dsn = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	err = c.proc.WaitReady(60*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, c.dsn)
		if err != nil {
			return err
		}
		return conn.Close(ctx)
	})
	if err != nil {
		return fmt.Errorf("postgres on port %d: %w", port, err)
	}
	return nil
}

// stop shuts the cluster down at once (SIGQUIT: nothing in it is worth a
// checkpoint) and deletes it.
func (c *cluster) stop() {
	c.proc.Stop(syscall.SIGQUIT)
	os.RemoveAll(c.dir)
}

// binDirs are where Debian and Ubuntu keep the server binaries, which are not
// on PATH there; the newest version comes first.
func binDirs() []string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	return dirs
}

func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// unprivileged is who runs the cluster: initdb and postgres refuse to run as
// root, so a root test process runs them as the postgres user (or nobody).
// Otherwise they run as the test process's own user.
func unprivileged() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err1 == nil && err2 == nil {
			return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
		}
	}
	return nil, fmt.Errorf("running as root, and neither a postgres nor a nobody user exists to run PostgreSQL as")
}
