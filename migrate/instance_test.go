package migrate_test

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gocarto/carto"
	"github.com/gocarto/carto/cartolocal/cartotest"
	cartodriver "github.com/gocarto/carto/driver"
	cmigrate "github.com/gocarto/carto/migrate"
)

// countingTransport counts the requests that go through it, by path.
type countingTransport struct {
	sql, jobs atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.Contains(r.URL.Path, "/sql/job") {
		c.jobs.Add(1)
	} else {
		c.sql.Add(1)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// TestWithInstanceOneClient: with no *sql.DB, the driver's bookkeeping and its Batch jobs both go
// through the one client it was given.
func TestWithInstanceOneClient(t *testing.T) {
	acct := cartotest.New(t)
	tr := &countingTransport{}
	client := acct.Client(t, carto.WithHTTPClient(&http.Client{Transport: tr}))
	d, err := cmigrate.WithInstance(client, nil, cmigrate.Config{})
	if err != nil {
		t.Fatal(err)
	}
	_, url := writeMigrations(t, map[string]string{"1_a.up.sql": "CREATE TABLE a (id int);", "1_a.down.sql": "DROP TABLE a;"})
	m := newMigrate(t, url, d)
	if err := m.Up(); err != nil {
		t.Fatal(err)
	}
	checkVersion(t, d, 1, false)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if tr.sql.Load() == 0 || tr.jobs.Load() == 0 {
		t.Errorf("through the client: %d SQL API and %d Batch requests; want both", tr.sql.Load(), tr.jobs.Load())
	}
}

// TestWithInstanceTwoAccounts: a *sql.DB of another account than the client's is refused; one
// of the same account is taken.
func TestWithInstanceTwoAccounts(t *testing.T) {
	a, b := cartotest.New(t), cartotest.New(t)
	client := a.Client(t)
	other := cartodriver.OpenDBFromClient(b.Client(t))
	defer other.Close()
	if _, err := cmigrate.WithInstance(client, other, cmigrate.Config{}); err == nil || !strings.Contains(err.Error(), "same account") {
		t.Fatalf("WithInstance with two accounts: %v", err)
	}
	same := cartodriver.OpenDBFromClient(a.Client(t))
	defer same.Close()
	d, err := cmigrate.WithInstance(client, same, cmigrate.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := same.Ping(); err != nil {
		t.Errorf("Close closed the caller's *sql.DB: %v", err)
	}
}
