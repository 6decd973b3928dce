package outbox_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/beignet-go/beignet/internal/testserver"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(testserver.Main(m)) }
