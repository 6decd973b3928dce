package admin_test

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/beignet-go/beignet/internal/testserver"
)

// quietRedis drops go-redis's dial-failure log lines, which the failure
// tests provoke on purpose.
type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}

func TestMain(m *testing.M) {
	redis.SetLogger(quietRedis{})
	goleak.VerifyTestMain(testserver.Main(m))
}
