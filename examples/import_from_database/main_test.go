package main

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gocarto/carto/cartolocal/cartotest"
	"github.com/gocarto/carto/imports"
)

func TestMain(m *testing.M) { os.Exit(cartotest.Main(m)) }

func TestImportFromDatabase(t *testing.T) {
	acct := cartotest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// The other database: a second database of the same PostgreSQL, with a table made here.
	db := "shop_" + acct.User
	admin := acct.Server.AdminPool()
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+db); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Exec(context.Background(), "DROP DATABASE "+db+" WITH (FORCE)") })
	cfg, err := pgx.ParseConfig(acct.PGURL)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Database = db
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Exec(ctx, "CREATE TABLE stores (name text, latitude float8, longitude float8); INSERT INTO stores VALUES ('North', 40.45, -3.69), ('South', 37.39, -5.98)")
	c.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	connection, _ := json.Marshal(map[string]any{"connector": map[string]any{"provider": "postgres", "table": "stores",
		"connection": map[string]any{"server": cfg.Host, "port": cfg.Port, "database": db, "username": cfg.User, "password": cfg.Password, "sslmode": "disable"}}})
	ic := imports.New(acct.Client(t))
	conn, err := parseConnection(string(connection))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := run(ctx, ic, conn, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "table: stores\n") {
		t.Errorf("printed:\n%s", out.String())
	}
	var n int
	if err := admin.QueryRow(ctx, `SELECT count(*) FROM "`+acct.User+`".stores WHERE the_geom IS NOT NULL`).Scan(&n); err != nil || n != 2 {
		t.Errorf("%d rows with a point, %v", n, err)
	}
	// carto-python's example uses hive, which CARTO (and cartolocal) does not have: 1501.
	hive, err := parseConnection(strings.Replace(string(connection), `"provider":"postgres"`, `"provider":"hive"`, 1))
	if err != nil {
		t.Fatal(err)
	}
	err = run(ctx, ic, hive, &out)
	if err == nil || !strings.Contains(err.Error(), "error 1501: Connectors disabled") || strings.Contains(err.Error(), cfg.Password) {
		t.Errorf("hive: %v", err)
	}
	if _, err := parseConnection("{"); err == nil || strings.Contains(err.Error(), "{") {
		t.Errorf("bad JSON: %v", err)
	}
}
