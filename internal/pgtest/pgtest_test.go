package pgtest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/beignet-go/beignet/internal/testserver"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(testserver.Main(m)) }

// The shared database is a private cluster: its own port and data
// directory, trust auth in its own pg_hba.conf, nothing of the machine's.
func TestPoolIsPrivate(t *testing.T) {
	if os.Getenv(EnvURL) != "" {
		t.Skip(EnvURL + " is set: the tests use that server")
	}
	pool := Pool(t)
	var port, dataDir, hba string
	err := pool.QueryRow(context.Background(),
		"SELECT current_setting('port'), current_setting('data_directory'), current_setting('hba_file')").Scan(&port, &dataDir, &hba)
	if err != nil {
		t.Fatal(err)
	}
	if port == "5432" {
		t.Errorf("port %s: the machine's PostgreSQL, not a private one", port)
	}
	if !strings.HasPrefix(dataDir, filepath.Join(os.TempDir(), "beignet-pgtest-")) || !strings.HasPrefix(hba, dataDir) {
		t.Errorf("data directory %s, hba %s: want a temporary cluster with its own config", dataDir, hba)
	}
	if !strings.Contains(DSN(), ":"+port+"/") {
		t.Errorf("DSN %s does not name port %s", DSN(), port)
	}
}

// A test's schema is dropped when the test ends, and nothing else is.
func TestSchemaDroppedAfterTest(t *testing.T) {
	pool := Pool(t)
	var name string
	t.Run("user", func(t *testing.T) {
		name = Schema(t, pool)
		if _, err := pool.Exec(context.Background(), "CREATE SCHEMA "+name); err != nil {
			t.Fatal(err)
		}
	})
	var n int
	if err := pool.QueryRow(context.Background(), "SELECT count(*) FROM pg_namespace WHERE nspname = $1", name).Scan(&n); err != nil || n != 0 {
		t.Errorf("schema %s: %d left, %v", name, n, err)
	}
}

// DATABASE_TEST_URL replaces the private cluster, verbatim.
func TestEnvOverride(t *testing.T) {
	const url = "postgres://someone@db.example:6543/elsewhere"
	t.Setenv(EnvURL, url)
	dsn, stop, err := startShared()
	if err != nil || dsn != url {
		t.Fatalf("startShared = %q, %v; want %q", dsn, err, url)
	}
	stop()
}

// Without the server binaries, the error is one line naming the package.
func TestMissingBinaries(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := startCluster(t.TempDir())
	if !errors.Is(err, testserver.ErrMissing) || !strings.Contains(err.Error(), "install postgresql") {
		t.Errorf("err = %v, want ErrMissing naming postgresql", err)
	}
}
