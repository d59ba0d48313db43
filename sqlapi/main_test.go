package sqlapi_test

import (
	"os"
	"testing"

	"github.com/gocarto/carto/cartolocal/cartotest"
)

func TestMain(m *testing.M) { os.Exit(cartotest.Main(m)) }
