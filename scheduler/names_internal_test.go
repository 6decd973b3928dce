package scheduler

import (
	"strings"
	"testing"
	"time"

	"github.com/beignet-go/beignet/locks"
)

// The longest claim key a name of MaxNameBytes can produce is still a valid
// key, and one byte more is not: MaxNameBytes is exactly the bound.
func TestMaxNameBytesFitsTheLongestClaimKey(t *testing.T) {
	worst := time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
	key := claimKey(strings.Repeat("n", MaxNameBytes), worst)
	if err := locks.ValidateKey(key); err != nil {
		t.Fatalf("claim key of a %d-byte name: %v", MaxNameBytes, err)
	}
	if err := locks.ValidateKey(key + "n"); err == nil {
		t.Fatalf("MaxNameBytes %d leaves slack: a longer claim key is still valid", MaxNameBytes)
	}
}
