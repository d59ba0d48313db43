package apikeys_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/jackc/pgx/v5"

	"github.com/gocarto/carto/cartolocal/cartotest"
	"github.com/gocarto/carto/cartolocal/internal/apikeys"
)

func TestMain(m *testing.M) { os.Exit(cartotest.Main(m)) }

func setup(t *testing.T) (*apikeys.Store, apikeys.Account, *cartotest.Account, context.Context) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	acct := cartotest.New(t)
	s, err := apikeys.New(ctx, acct.Server.AdminPool())
	if err != nil {
		t.Fatal(err)
	}
	a := apikeys.Account{Name: acct.User, Schema: acct.User, OwnerRole: "cartodb_user_" + acct.User, PublicRole: "publicuser"}
	acct.Exec(t, "CREATE TABLE t1 (cartodb_id serial PRIMARY KEY, v int); CREATE TABLE t2 (v int); INSERT INTO t1 (v) VALUES (1); INSERT INTO t2 VALUES (2)")
	return s, a, acct, ctx
}

// connectAs opens a PostgreSQL session as the key's role.
func connectAs(t *testing.T, ctx context.Context, acct *cartotest.Account, k apikeys.Key) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(acct.PGURL)
	if err != nil {
		t.Fatal(err)
	}
	cfg.User, cfg.Password = k.Role, k.Password
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func TestRegularKeyRoleHasExactlyItsGrants(t *testing.T) {
	s, a, acct, ctx := setup(t)
	grants := jsontext.Value(`[{"type":"apis","apis":["sql"]},
		{"type":"database","tables":[{"schema":"` + acct.User + `","name":"t1","permissions":["select","insert"]}],"table_metadata":[]},
		{"type":"dataservices","services":["geocoding"]}]`)
	k, err := s.Create(ctx, a, "reader", grants)
	if err != nil {
		t.Fatal(err)
	}
	if k.Name != "reader" || len(k.Token) != 40 || !strings.HasPrefix(k.Role, "carto_role_") || !k.Grants.Has("sql") || k.Grants.Has("maps") {
		t.Fatalf("key %+v", k)
	}
	if !slices.Equal(k.Grants.Services, []string{"geocoding"}) || !k.Grants.Metadata {
		t.Fatalf("services/metadata %+v", k.Grants)
	}
	if len(k.Grants.Tables) != 1 || k.Grants.Tables[0].Name != "t1" || !slices.Equal(k.Grants.Tables[0].Permissions, []string{"insert", "select"}) || k.Grants.Tables[0].Owner {
		t.Fatalf("tables read back %+v", k.Grants.Tables)
	}

	c := connectAs(t, ctx, acct, k)
	var v int
	if err := c.QueryRow(ctx, "SELECT v FROM t1").Scan(&v); err != nil || v != 1 {
		t.Fatalf("select t1: %v %v", v, err)
	}
	if _, err := c.Exec(ctx, "INSERT INTO t1 (v) VALUES (3)"); err != nil {
		t.Fatalf("insert t1 (with its sequence): %v", err)
	}
	if _, err := c.Exec(ctx, "SELECT * FROM t2"); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("select t2: %v", err)
	}
	if _, err := c.Exec(ctx, "DELETE FROM t1"); err == nil {
		t.Fatal("delete was not granted")
	}
	if _, err := c.Exec(ctx, "SELECT CDB_LatLng(1, 2)"); err != nil {
		t.Fatalf("the key keeps the account's search_path and functions: %v", err)
	}

	// A grant made outside the Auth API shows, as CARTO reads grants from the catalog.
	acct.Exec(t, "GRANT UPDATE ON t1 TO "+k.Role)
	got, err := s.Get(ctx, a.Name, "reader")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Grants.Tables[0].Permissions, []string{"insert", "select", "update"}) {
		t.Fatalf("read back %+v", got.Grants.Tables)
	}

	byTok, err := s.ByToken(ctx, a.Name, k.Token)
	if err != nil || byTok.Role != k.Role {
		t.Fatalf("by token: %+v %v", byTok, err)
	}
	re, err := s.Regenerate(ctx, a.Name, "reader")
	if err != nil || re.Token == k.Token || re.Role != k.Role {
		t.Fatalf("regenerate: %+v %v", re, err)
	}
	if _, err := s.ByToken(ctx, a.Name, k.Token); !errors.Is(err, apikeys.ErrNotFound) {
		t.Fatalf("old token: %v", err)
	}
	list, err := s.List(ctx, a.Name, "name", false)
	if err != nil || len(list) != 1 {
		t.Fatalf("list: %v %v", list, err)
	}

	if err := s.Delete(ctx, a, "reader"); err != nil {
		t.Fatal(err)
	}
	var exists bool
	if err := acct.Server.AdminPool().QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", k.Role).Scan(&exists); err != nil || exists {
		t.Fatalf("role left: %v %v", exists, err)
	}
	if _, err := s.ByToken(ctx, a.Name, re.Token); !errors.Is(err, apikeys.ErrNotFound) {
		t.Fatalf("deleted token: %v", err)
	}
	if err := s.Delete(ctx, a, "reader"); !errors.Is(err, apikeys.ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
}

func TestSchemaGrant(t *testing.T) {
	s, a, acct, ctx := setup(t)
	k, err := s.Create(ctx, a, "creator", jsontext.Value(`[{"type":"apis","apis":["sql","maps"]},{"type":"database","schemas":[{"name":"`+acct.User+`","permissions":["create"]}]}]`))
	if err != nil {
		t.Fatal(err)
	}
	if len(k.Grants.Schemas) != 1 || k.Grants.Schemas[0].Name != acct.User || len(k.Grants.Tables) != 0 {
		t.Fatalf("schemas %+v tables %+v", k.Grants.Schemas, k.Grants.Tables)
	}
	c := connectAs(t, ctx, acct, k)
	if _, err := c.Exec(ctx, "CREATE TABLE made_by_key (a int)"); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, a.Name, "creator")
	if err != nil || len(got.Grants.Tables) != 1 || !got.Grants.Tables[0].Owner {
		t.Fatalf("owned table: %+v %v", got.Grants.Tables, err)
	}
	c.Close(ctx)
	// Deleting the key gives what it made to the owner.
	if err := s.Delete(ctx, a, "creator"); err != nil {
		t.Fatal(err)
	}
	var owner string
	if err := acct.Server.AdminPool().QueryRow(ctx, "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = to_regclass(format('%I.made_by_key', $1::text))", acct.User).Scan(&owner); err != nil || owner != a.OwnerRole {
		t.Fatalf("owner %q %v", owner, err)
	}
}

func TestValidation(t *testing.T) {
	s, a, acct, ctx := setup(t)
	if _, err := s.Create(ctx, a, "dup", jsontext.Value(`[{"type":"apis","apis":[]}]`)); err != nil {
		t.Fatal(err)
	}
	tbl := `{"type":"database","tables":[{"schema":"` + acct.User + `","name":"%s","permissions":["select"]}]}`
	for _, c := range []struct {
		name, grants, want string
	}{
		{"dup", `[{"type":"apis","apis":["sql"]}]`, "Validation failed: Name has already been taken"},
		{"Master", `[{"type":"apis","apis":["sql"]}]`, "Validation failed: Name has already been taken, Name api_key name cannot be Master nor Default public"},
		{"Default public", `[{"type":"apis","apis":["sql"]}]`, "Validation failed: Name has already been taken, Name api_key name cannot be Master nor Default public"},
		{"", `[{"type":"apis","apis":["sql"]}]`, "Validation failed: Name can't be blank"},
		{"k", `[]`, "Validation failed: Grants only one apis section is allowed"},
		{"k", `{"type":"apis"}`, "Validation failed: Grants grants has to be an array"},
		{"k", ``, "Validation failed: Grants grants has to be an array"},
		{"k", `[{"type":"database","tables":[]}]`, "Validation failed: Grants only one apis section is allowed"},
		{"k", `[{"type":"apis","apis":["sql"]},{"type":"apis","apis":["maps"]}]`, "Validation failed: Grants only one apis section is allowed"},
		{"k", `[{"type":"apis","apis":["sql"]},{"type":"user","data":["profile"]},{"type":"user","data":[]}]`, "Validation failed: Grants only one user section is allowed"},
		{"k", `[{"type":"apis","apis":["sql","ftp"]}]`, `Validation failed: Grants The property '#/0/apis/1' value "ftp" did not match one of the following values: sql, maps, do`},
		{"k", `[{"type":"apis","apis":["sql"]},{"type":"database","tables":[{"schema":"s","name":"t1","permissions":["drop"]}]}]`,
			`Validation failed: Grants The property '#/1/tables/0/permissions/0' value "drop" did not match one of the following values: insert, select, update, delete`},
		{"k", `[{"type":"apis","apis":["sql"],"x":1}]`, `Validation failed: Grants The property '#/0' contains additional properties ["x"] outside of the schema when none are allowed`},
		{"k", `[{"type":"apis","apis":["sql"]},{"type":"database","tables":[{"name":"t1","permissions":[]}]}]`, `Validation failed: Grants The property '#/1/tables/0' did not contain a required property of 'schema'`},
		{"k", `[{"type":"apis","apis":["sql"]},` + strings.Replace(tbl, "%s", "nope", 1) + `]`, "Validation failed: Grants can only grant table permissions you have"},
		{"k", `[{"type":"apis","apis":["sql"]},{"type":"database","tables":[{"schema":"pg_catalog","name":"pg_authid","permissions":["select"]}]}]`, "Validation failed: Grants can only grant table permissions you have"},
		{"k", `[{"type":"apis","apis":["sql"]},{"type":"database","schemas":[{"name":"public","permissions":["create"]}]}]`, "Validation failed: Grants can only grant schema permissions you have"},
	} {
		_, err := s.Create(ctx, a, c.name, jsontext.Value(c.grants))
		var ve *apikeys.ValidationError
		if !errors.As(err, &ve) || err.Error() != c.want {
			t.Errorf("%q %s:\n got %v\nwant %s", c.name, c.grants, err, c.want)
		}
	}
	// A refused key leaves no role behind.
	var n int
	if err := acct.Server.AdminPool().QueryRow(ctx, "SELECT count(*) FROM cartolocal.api_keys WHERE user_name = $1", a.Name).Scan(&n); err != nil || n != 1 {
		t.Fatalf("keys: %d %v", n, err)
	}
}
