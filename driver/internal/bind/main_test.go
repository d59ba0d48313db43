package bind

import (
	"os"
	"testing"

	"github.com/gocarto/carto/cartolocal/cartotest"
)

// TestMain shares one cartolocal server (and its PostgreSQL) among the package's tests, which
// reach the PostgreSQL behind it directly, and fails the run if goroutines leak.
func TestMain(m *testing.M) { os.Exit(cartotest.Main(m)) }
