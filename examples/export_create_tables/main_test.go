package main

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gocarto/carto/cartolocal/cartotest"
)

func TestMain(m *testing.M) { os.Exit(cartotest.Main(m)) }

func setup(t *testing.T) (*cartotest.Account, context.Context, *sql.DB) {
	acct := cartotest.New(t)
	db, err := sql.Open("carto", acct.DSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return acct, ctx, db
}

const schemaSQL = `
CREATE TABLE countries (
	id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	iso char(2) NOT NULL UNIQUE,
	name text COLLATE "C",
	the_geom geometry(MultiPolygon, 4326)
);
CREATE TABLE "Places" (
	cartodb_id serial PRIMARY KEY,
	name text NOT NULL CHECK (name <> ''),
	country_id int REFERENCES countries (id) ON DELETE CASCADE,
	visits int DEFAULT 0,
	tags text[] DEFAULT '{}',
	name_upper text GENERATED ALWAYS AS (upper(name)) STORED,
	the_geom geometry(Point, 4326)
);
COMMENT ON TABLE "Places" IS 'It''s a \ backslash';
COMMENT ON COLUMN "Places".name IS 'what people call it';
CREATE INDEX places_geom_idx ON "Places" USING gist (the_geom);
CREATE UNIQUE INDEX places_lower_name ON "Places" (lower(name)) WHERE visits > 0;
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN NEW.visits := NEW.visits + 1; RETURN NEW; END$$;
CREATE TRIGGER places_touch BEFORE INSERT OR UPDATE ON "Places" FOR EACH ROW EXECUTE FUNCTION touch();
CREATE UNLOGGED TABLE scratch (k text, v jsonb);
`

// TestExportRoundTrip exports an account's tables, runs the script in a second account, exports
// that, and expects the same script: everything the script says survived the trip.
func TestExportRoundTrip(t *testing.T) {
	acct, ctx, db := setup(t)
	acct.Exec(t, schemaSQL)
	var out bytes.Buffer
	if err := run(ctx, db, args{}, &out); err != nil {
		t.Fatal(err)
	}
	script := out.String()
	t.Log("\n" + script)
	for _, want := range []string{
		"-- 3 tables, written by export_create_tables",
		`CREATE SEQUENCE IF NOT EXISTS "Places_cartodb_id_seq";`,
		`CREATE TABLE "Places" (`,
		`    cartodb_id integer DEFAULT nextval('"Places_cartodb_id_seq"'::regclass) NOT NULL,`,
		"    the_geom geometry(Point,4326)",
		"    name_upper text GENERATED ALWAYS AS (upper(name)) STORED,",
		`    CONSTRAINT "Places_pkey" PRIMARY KEY (cartodb_id),`,
		`    CONSTRAINT "Places_name_check" CHECK ((name <> ''::text))`,
		`COMMENT ON TABLE "Places" IS E'It''s a \\ backslash';`,
		"    id integer GENERATED ALWAYS AS IDENTITY,",
		`    name text COLLATE "C",`,
		"CREATE UNLOGGED TABLE scratch (",
		"USING gist (the_geom);",
		"CREATE TRIGGER places_touch BEFORE INSERT OR UPDATE ON",
		`ALTER TABLE "Places" ADD CONSTRAINT "Places_country_id_fkey" FOREIGN KEY (country_id) REFERENCES countries(id) ON DELETE CASCADE;`,
	} {
		if !strings.Contains(script, want) {
			t.Errorf("script lacks %q", want)
		}
	}
	if strings.Contains(script, acct.User+".") {
		t.Errorf("script names the account's schema:\n%s", script)
	}

	other, ctx2, db2 := setup(t)
	other.Exec(t, `CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$`)
	other.Exec(t, script)
	var again bytes.Buffer
	if err := run(ctx2, db2, args{}, &again); err != nil {
		t.Fatal(err)
	}
	if again.String() != script {
		t.Fatalf("the script recreated different tables:\n%s", again.String())
	}
}

func TestExportSomeTables(t *testing.T) {
	acct, ctx, db := setup(t)
	acct.Exec(t, schemaSQL)
	var out bytes.Buffer
	if err := run(ctx, db, args{Tables: []string{"scratch", "countries"}, Drop: true}, &out); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	if !strings.Contains(s, "-- 2 tables") || strings.Contains(s, "Places") ||
		!strings.Contains(s, "DROP TABLE IF EXISTS countries CASCADE;\nDROP TABLE IF EXISTS scratch CASCADE;\n") {
		t.Fatalf("script:\n%s", s)
	}
	// Running it twice works because of -drop.
	acct.Exec(t, s)
	acct.Exec(t, s)

	if err := run(ctx, db, args{Tables: []string{"nope"}}, &bytes.Buffer{}); err == nil {
		t.Fatal("unknown table: no error")
	}
}

func TestExportEmpty(t *testing.T) {
	_, ctx, db := setup(t)
	var out bytes.Buffer
	if err := run(ctx, db, args{}, &out); err != nil {
		t.Fatal(err)
	}
	if out.String() != "-- 0 tables, written by export_create_tables (structure only, no data)\n" {
		t.Fatalf("script: %q", out.String())
	}
}
