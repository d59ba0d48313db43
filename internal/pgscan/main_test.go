package pgscan_test

import (
	"os"
	"testing"

	"github.com/gocarto/carto/cartolocal/cartotest"
)

// TestMain gives FuzzScanPostgres its PostgreSQL: the one behind a cartotest server.
func TestMain(m *testing.M) { os.Exit(cartotest.Main(m)) }
