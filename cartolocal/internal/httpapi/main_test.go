package httpapi_test

import (
	"os"
	"testing"

	"github.com/gocarto/carto/cartolocal/cartotest"
)

// TestMain is the one TestMain of this package's tests (internal and external test files share a
// binary): tests take accounts with cartotest.New, and goroutine leaks fail the run.
func TestMain(m *testing.M) { os.Exit(cartotest.Main(m)) }
