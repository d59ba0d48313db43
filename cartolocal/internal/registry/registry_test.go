package registry_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gocarto/carto/cartolocal/cartotest"
	"github.com/gocarto/carto/cartolocal/internal/registry"
)

func TestMain(m *testing.M) { os.Exit(cartotest.Main(m)) }

// publicRole is the role the account's public key runs as.
const publicRole = "publicuser"

func setup(t *testing.T) (*registry.Registry, *cartotest.Account, context.Context) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	acct := cartotest.New(t)
	reg, err := registry.New(ctx, acct.Server.AdminPool(), func(user string) (registry.Account, bool) {
		if _, ok := acct.Server.User(user); !ok {
			return registry.Account{}, false
		}
		return registry.Account{Name: user, Schema: user, PublicRole: publicRole}, true
	})
	if err != nil {
		t.Fatal(err)
	}
	return reg, acct, ctx
}

// cartodbfied creates cartodbfied tables through SQL, as a user of the SQL API would.
func cartodbfied(t *testing.T, acct *cartotest.Account, names ...string) {
	t.Helper()
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "CREATE TABLE %s (name text); SELECT CDB_CartodbfyTable(current_schema(), '%s'::regclass);", n, n)
	}
	acct.Exec(t, b.String())
}

func publicCanRead(t *testing.T, ctx context.Context, acct *cartotest.Account, table string) bool {
	t.Helper()
	var ok bool
	err := acct.Server.AdminPool().QueryRow(ctx, "SELECT has_table_privilege($1, format('%I.%I', $2::text, $3::text), 'SELECT')",
		publicRole, acct.User, table).Scan(&ok)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func TestRegisterTableGrantsPrivacy(t *testing.T) {
	reg, acct, ctx := setup(t)
	acct.Exec(t, "CREATE TABLE places (cartodb_id serial, name text)")
	v, err := reg.RegisterTable(ctx, nil, acct.User, "places", "PUBLIC")
	if err != nil {
		t.Fatal(err)
	}
	if v.Type != registry.TypeTable || v.Table != "places" || v.Name != "places" || v.Privacy != "public" || !registry.IsUUID(v.ID) {
		t.Fatalf("registered %+v", v)
	}
	if !publicCanRead(t, ctx, acct, "places") {
		t.Fatal("a public dataset must be readable by the public role")
	}
	for _, c := range []struct {
		privacy string
		read    bool
	}{{"private", false}, {"link", true}, {"password", false}, {"public", true}} {
		got, err := reg.Update(ctx, acct.User, v.ID, registry.Patch{Privacy: &c.privacy})
		if err != nil {
			t.Fatal(err)
		}
		if got.Privacy != c.privacy || publicCanRead(t, ctx, acct, "places") != c.read {
			t.Fatalf("privacy %s: got %q, readable %v", c.privacy, got.Privacy, !c.read)
		}
	}
	// Registering again updates, never duplicates.
	again, err := reg.RegisterTable(ctx, nil, acct.User, "places", "")
	if err != nil {
		t.Fatal(err)
	}
	if again.ID != v.ID || again.Privacy != "private" || publicCanRead(t, ctx, acct, "places") {
		t.Fatalf("registered again: %+v", again)
	}
	if _, err := reg.RegisterTable(ctx, nil, acct.User, "nope", ""); !errors.Is(err, registry.ErrNoTable) {
		t.Fatalf("unknown table: %v", err)
	}
	if _, err := reg.RegisterTable(ctx, nil, acct.User, "places", "secret"); !errors.Is(err, registry.ErrBadPrivacy) {
		t.Fatalf("bad privacy: %v", err)
	}
	if _, err := reg.RegisterTable(ctx, nil, "nobody_here", "places", ""); !errors.Is(err, registry.ErrUnknownUser) {
		t.Fatalf("unknown user: %v", err)
	}
}

func TestRegisterInCallersTransaction(t *testing.T) {
	reg, acct, ctx := setup(t)
	acct.Exec(t, "CREATE TABLE rolled (a int)")
	tx, err := acct.Server.AdminPool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.RegisterTable(ctx, tx, acct.User, "rolled", "public"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.TableByName(ctx, acct.User, "rolled"); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("a rolled-back registration must leave nothing: %v", err)
	}
	if publicCanRead(t, ctx, acct, "rolled") {
		t.Fatal("a rolled-back registration must leave no grant")
	}
}

func TestGhostTables(t *testing.T) {
	reg, acct, ctx := setup(t)
	cartodbfied(t, acct, "ghost")
	acct.Exec(t, "CREATE TABLE plain (a int)") // not cartodbfied: not a dataset
	v, err := reg.TableByName(ctx, acct.User, "ghost")
	if err != nil {
		t.Fatal(err)
	}
	if v.Privacy != "private" {
		t.Fatalf("a table cartodbfied through SQL is private: %+v", v)
	}
	if _, err := reg.TableByName(ctx, acct.User, "plain"); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("plain table: %v", err)
	}
	m, err := reg.CreateMap(ctx, acct.User, registry.MapSpec{Name: "M", Tables: []string{"ghost"}})
	if err != nil {
		t.Fatal(err)
	}

	acct.Exec(t, "ALTER TABLE ghost RENAME TO spirit")
	got, err := reg.Get(ctx, acct.User, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "spirit" || got.Table != "spirit" {
		t.Fatalf("renamed through SQL: %+v", got)
	}
	gm, err := reg.Get(ctx, acct.User, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(gm.Tables, []string{"spirit"}) || !strings.Contains(string(gm.Definition), `\"spirit\"`) || strings.Contains(string(gm.Definition), "ghost") {
		t.Fatalf("map after the rename: %v %s", gm.Tables, gm.Definition)
	}

	acct.Exec(t, "DROP TABLE spirit")
	if _, err := reg.Get(ctx, acct.User, v.ID); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("dropped through SQL: %v", err)
	}
	if _, err := reg.Get(ctx, acct.User, m.ID); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("a map of only a dropped table goes too: %v", err)
	}
}

func TestMapsAndDelete(t *testing.T) {
	reg, acct, ctx := setup(t)
	cartodbfied(t, acct, "a", "b")
	a, err := reg.TableByName(ctx, acct.User, "a")
	if err != nil {
		t.Fatal(err)
	}
	only, err := reg.CreateMap(ctx, acct.User, registry.MapSpec{Tables: []string{a.ID}})
	if err != nil {
		t.Fatal(err)
	}
	both, err := reg.CreateMap(ctx, acct.User, registry.MapSpec{Tables: []string{"a", "b"}, Tags: []string{"x"}})
	if err != nil {
		t.Fatal(err)
	}
	if only.Name != "Untitled Map" || both.Name != "Untitled Map 1" || only.Privacy != "public" || only.Type != registry.TypeDerived {
		t.Fatalf("maps: %+v %+v", only, both)
	}
	if !slices.Equal(both.Tables, []string{"a", "b"}) {
		t.Fatalf("tables: %v", both.Tables)
	}
	if _, err := reg.CreateMap(ctx, acct.User, registry.MapSpec{Tables: []string{"zzz"}}); !errors.Is(err, registry.ErrNoTable) {
		t.Fatalf("map on an unknown table: %v", err)
	}
	deps, err := reg.Dependents(ctx, acct.User, "a")
	if err != nil || len(deps) != 2 {
		t.Fatalf("dependents: %v %v", deps, err)
	}

	// Renaming through the registry renames the table.
	newName := "a2"
	if _, err := reg.Update(ctx, acct.User, "a", registry.Patch{Name: &newName}); err != nil {
		t.Fatal(err)
	}
	var exists bool
	if err := acct.Server.AdminPool().QueryRow(ctx, "SELECT to_regclass(format('%I.a2', $1::text)) IS NOT NULL", acct.User).Scan(&exists); err != nil || !exists {
		t.Fatalf("table a2: %v %v", exists, err)
	}
	bad := "B C"
	if _, err := reg.Update(ctx, acct.User, "a2", registry.Patch{Name: &bad}); !errors.Is(err, registry.ErrInvalidName) {
		t.Fatalf("bad name: %v", err)
	}
	taken := "b"
	if _, err := reg.Update(ctx, acct.User, "a2", registry.Patch{Name: &taken}); !errors.Is(err, registry.ErrNameTaken) {
		t.Fatalf("taken name: %v", err)
	}

	if err := reg.Delete(ctx, acct.User, "a2"); err != nil {
		t.Fatal(err)
	}
	if err := acct.Server.AdminPool().QueryRow(ctx, "SELECT to_regclass(format('%I.a2', $1::text)) IS NOT NULL", acct.User).Scan(&exists); err != nil || exists {
		t.Fatalf("the table must be dropped: %v %v", exists, err)
	}
	if _, err := reg.Get(ctx, acct.User, only.ID); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("fully dependent map: %v", err)
	}
	kept, err := reg.Get(ctx, acct.User, both.ID)
	if err != nil || !slices.Equal(kept.Tables, []string{"b"}) {
		t.Fatalf("partly dependent map: %+v %v", kept, err)
	}
	if err := reg.Delete(ctx, acct.User, both.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.TableByName(ctx, acct.User, "b"); err != nil {
		t.Fatalf("deleting a map keeps its tables: %v", err)
	}
}

func TestListFiltersAndPaging(t *testing.T) {
	reg, acct, ctx := setup(t)
	var names []string
	for i := range 23 {
		names = append(names, fmt.Sprintf("t%02d", i))
	}
	cartodbfied(t, acct, names...)
	desc := "roads of spain"
	tags := []string{"roads", "es"}
	pub := "public"
	if _, err := reg.Update(ctx, acct.User, "t05", registry.Patch{Description: &desc, Tags: &tags, Privacy: &pub}); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.CreateMap(ctx, acct.User, registry.MapSpec{Name: "roads map", Tables: []string{"t05"}}); err != nil {
		t.Fatal(err)
	}

	seen := map[string]int{}
	total := -1
	for page := 1; ; page++ {
		vs, n, err := reg.List(ctx, acct.User, registry.Filter{Types: []string{"table"}, Order: "name", Asc: true, Page: page, PerPage: 5})
		if err != nil {
			t.Fatal(err)
		}
		total = n
		if len(vs) == 0 {
			break
		}
		for _, v := range vs {
			seen[v.Name]++
		}
	}
	if total != 23 || len(seen) != 23 {
		t.Fatalf("total %d, seen %d", total, len(seen))
	}
	for n, c := range seen {
		if c != 1 {
			t.Fatalf("%s seen %d times", n, c)
		}
	}
	first, _, err := reg.List(ctx, acct.User, registry.Filter{Types: []string{"table"}, Order: "name", PerPage: 1})
	if err != nil || first[0].Name != "t22" {
		t.Fatalf("name desc: %v %v", first, err)
	}

	for _, c := range []struct {
		f    registry.Filter
		want []string
	}{
		{registry.Filter{Q: "spain"}, []string{"t05"}},
		{registry.Filter{Q: "ROADS"}, []string{"roads map", "t05"}},
		{registry.Filter{Tags: []string{"es", "nope"}}, []string{"t05"}},
		{registry.Filter{Types: []string{"table"}, Privacy: []string{"public"}}, []string{"t05"}},
		{registry.Filter{Types: []string{"derived"}}, []string{"roads map"}},
		{registry.Filter{Q: "t0_"}, nil}, // LIKE wildcards are literal
	} {
		vs, n, err := reg.List(ctx, acct.User, c.f)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, v := range vs {
			got = append(got, v.Name)
		}
		slices.Sort(got)
		if !slices.Equal(got, c.want) || n != len(c.want) {
			t.Errorf("%+v: got %v (total %d), want %v", c.f, got, n, c.want)
		}
	}
	if _, _, err := reg.List(ctx, acct.User, registry.Filter{Order: "bogus"}); err == nil {
		t.Fatal("unknown order must fail")
	}
	for order := range registry.Orders {
		if _, _, err := reg.List(ctx, acct.User, registry.Filter{Order: order}); err != nil {
			t.Fatalf("order %s: %v", order, err)
		}
	}
}

func TestSanitizeTableName(t *testing.T) {
	for in, want := range map[string]string{
		"My Table":  "my_table",
		"2020 data": "table_2020_data",
		"a--b__c":   "a_b__c",
		"  ":        "untitled_table",
		"ok_name":   "ok_name",
	} {
		if got := registry.SanitizeTableName(in); got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
}
