package redistest

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/beignet-go/beignet/internal/testserver"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(testserver.Main(m)) }

// The shared server is a private redis-server, not the machine's.
func TestSharedIsPrivate(t *testing.T) {
	if os.Getenv(EnvURL) != "" {
		t.Skip(EnvURL + " is set: the tests use that server")
	}
	c := SharedClient(t)
	if SharedAddr() == "127.0.0.1:6379" {
		t.Fatalf("shared address %s is the machine's Redis", SharedAddr())
	}
	dir, err := c.ConfigGet(context.Background(), "dir").Result()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(dir["dir"], os.TempDir()) {
		t.Errorf("server dir %q: want a temporary directory of its own", dir["dir"])
	}
}

// A test's keys are deleted when it ends; other keys stay.
func TestUniquePrefixCleansUp(t *testing.T) {
	c := SharedClient(t)
	other := UniquePrefix(t, c)
	ctx := context.Background()
	c.Set(ctx, "{"+other+"|k}", "stays", 0)
	var mine string
	t.Run("user", func(t *testing.T) {
		mine = UniquePrefix(t, c)
		c.Set(ctx, "{"+mine+"|k}", "goes", 0)
	})
	if n := c.Exists(ctx, "{"+mine+"|k}", "{"+other+"|k}").Val(); n != 1 {
		t.Errorf("%d of the two keys left, want only the other test's", n)
	}
}

// REDIS_TEST_URL replaces the private server.
func TestEnvOverride(t *testing.T) {
	t.Setenv(EnvURL, "redis://:pw@db.example:7000/3")
	o, stop, err := startShared()
	if err != nil || o.Addr != "db.example:7000" || o.Password != "pw" || o.DB != 3 {
		t.Fatalf("startShared = %+v, %v", o, err)
	}
	stop()
	t.Setenv(EnvURL, "http://nope")
	if _, _, err := startShared(); err == nil || !strings.Contains(err.Error(), EnvURL) {
		t.Errorf("bad URL: %v, want an error naming %s", err, EnvURL)
	}
}

// Without redis-server, the error is one line naming the package.
func TestMissingBinary(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := startRedis(FreePort(t), t.TempDir())
	if !errors.Is(err, testserver.ErrMissing) || !strings.Contains(err.Error(), "install redis-server") {
		t.Errorf("err = %v, want ErrMissing naming redis-server", err)
	}
}
