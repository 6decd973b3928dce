package health_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/beignet-go/beignet/health"
	"github.com/beignet-go/beignet/internal/pgtest"
	"github.com/beignet-go/beignet/internal/redistest"
)

// The PostgreSQL and Redis checks pass against the real servers and fail,
// naming the server, against a port nothing listens on.
func TestServerChecks(t *testing.T) {
	free := strconv.Itoa(redistest.FreePort(t))
	deadPool, err := pgxpool.New(context.Background(), "postgres://postgres@127.0.0.1:"+free+"/test?connect_timeout=1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(deadPool.Close)
	deadRedis := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + free, MaxRetries: -1,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}})
	t.Cleanup(func() { _ = deadRedis.Close() })
	liveRedis := redistest.SharedClient(t)

	for _, tc := range []struct {
		check health.Check
		fails string // "" when it should pass
	}{
		{health.Postgres(pgtest.Pool(t)), ""},
		{health.Postgres(deadPool), "postgres unreachable"},
		{health.Redis(liveRedis), ""},
		{health.Redis(deadRedis), "redis unreachable"},
	} {
		st := health.Run(context.Background(), tc.check)
		got := st.Checks[tc.check.Name]
		switch {
		case tc.fails == "" && got != "ok":
			t.Errorf("%s against the live server: %q", tc.check.Name, got)
		case tc.fails != "" && !strings.Contains(got, tc.fails):
			t.Errorf("%s against a dead port: %q, want it to say %q", tc.check.Name, got, tc.fails)
		}
	}
}
