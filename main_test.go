package carto

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if a test leaves a goroutine behind (a response body never closed, a
// retry timer never stopped).
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
