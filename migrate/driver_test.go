package migrate_test

import (
	"testing"

	dtest "github.com/golang-migrate/migrate/v4/database/testing"

	"github.com/gocarto/carto/cartolocal/cartotest"
	cmigrate "github.com/gocarto/carto/migrate"
)

func openDriver(t *testing.T, acct *cartotest.Account, params string) *cmigrate.Driver {
	t.Helper()
	url := acct.DSN()
	if params != "" {
		url += "&" + params
	}
	d, err := cmigrate.Open(url)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// TestGolangMigrateSuite runs golang-migrate's own driver tests (database/testing.Test): nil
// version first, Lock twice, Unlock, Run, SetVersion/Version round trips, Drop.
func TestGolangMigrateSuite(t *testing.T) {
	t.Parallel()
	acct := cartotest.New(t)
	d := openDriver(t, acct, "")
	dtest.Test(t, d, []byte("CREATE TABLE suite_t (id int PRIMARY KEY); INSERT INTO suite_t VALUES (1);"))
}
