package users_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/gocarto/carto/cartolocal/cartotest"
	"github.com/gocarto/carto/cartolocal/internal/apikeys"
	"github.com/gocarto/carto/cartolocal/internal/httpapi"
	"github.com/gocarto/carto/cartolocal/internal/users"
)

// The key lookup every API shares: a regular key's request runs as the key's role and may use
// only the APIs it was granted (the Maps API asks Allows("maps") as the SQL API asks "sql").
func TestRegularKeyPrincipal(t *testing.T) {
	a := cartotest.New(t)
	ctx := context.Background()
	a.Exec(t, "CREATE TABLE t (v int); INSERT INTO t VALUES (7)")
	pool := a.Server.AdminPool()
	store, err := apikeys.New(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := a.Server.User(a.User)
	acct := apikeys.Account{Name: a.User, Schema: a.User, OwnerRole: u.Role, PublicRole: users.PublicRole}
	sqlOnly, err := store.Create(ctx, acct, "sql-only", jsontext.Value(`[{"type":"apis","apis":["sql"]},
		{"type":"database","tables":[{"schema":"`+a.User+`","name":"t","permissions":["select"]}]}]`))
	if err != nil {
		t.Fatal(err)
	}

	d := users.New(users.Options{Admin: pool})
	t.Cleanup(d.Close)
	if err := d.Load(ctx); err != nil {
		t.Fatal(err)
	}
	auth := func(token string) (*users.Principal, *httpapi.Error) {
		r := httptest.NewRequest("GET", "/user/"+a.User+"/api/v1/map", nil)
		r.SetPathValue("user", a.User)
		if token != "" {
			r.SetBasicAuth(a.User, token)
		}
		return d.Authenticate(r, httpapi.Params{})
	}
	if _, aerr := auth(sqlOnly.Token); aerr == nil || aerr.Status != 401 {
		t.Fatalf("without the key store a regular key is unknown: %v", aerr)
	}
	d.SetKeys(store)
	who, aerr := auth(sqlOnly.Token)
	if aerr != nil {
		t.Fatal(aerr)
	}
	if who.Master || who.Key == nil || !who.Allows("sql") || who.Allows("maps") {
		t.Fatalf("principal %+v", who)
	}
	conn, err := who.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var role string
	var v int
	if err := conn.QueryRow(ctx, "SELECT current_user, (SELECT v FROM t)").Scan(&role, &v); err != nil || role != sqlOnly.Role || v != 7 {
		t.Fatalf("runs as %q (%d): %v", role, v, err)
	}
	conn.Release()
	for _, tok := range []string{a.MasterKey, a.PublicKey, ""} {
		who, aerr := auth(tok)
		if aerr != nil || !who.Allows("maps") || !who.Allows("sql") {
			t.Fatalf("the account's own keys may use every API: %v %v", who, aerr)
		}
	}

	if err := store.Delete(ctx, acct, "sql-only"); err != nil {
		t.Fatal(err)
	}
	u2, _ := d.Get(a.User)
	u2.ForgetKey(sqlOnly.Role)
	if _, aerr := auth(sqlOnly.Token); aerr == nil || aerr.Status != 401 {
		t.Fatalf("a deleted key: %v", aerr)
	}
}
