package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gocarto/carto"
	"github.com/gocarto/carto/account"
	"github.com/gocarto/carto/cartolocal/cartotest"
	"github.com/gocarto/carto/driver"
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

func TestTableInfo(t *testing.T) {
	acct, ctx, db := setup(t)
	acct.Exec(t, `CREATE TABLE places (
			cartodb_id serial PRIMARY KEY,
			name text NOT NULL,
			visits int DEFAULT 0,
			code text UNIQUE,
			the_geom geometry(Point, 4326),
			name_upper text GENERATED ALWAYS AS (upper(name)) STORED
		);
		COMMENT ON TABLE places IS 'Places we know';
		COMMENT ON COLUMN places.name IS 'what people call it';
		CREATE INDEX places_the_geom_idx ON places USING gist (the_geom);
		CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN NEW.visits := NEW.visits + 1; RETURN NEW; END$$;
		CREATE TRIGGER places_touch BEFORE INSERT OR UPDATE ON places FOR EACH ROW EXECUTE FUNCTION touch();
		INSERT INTO places (name, the_geom) SELECT 'p' || i, ST_SetSRID(ST_MakePoint(i, i), 4326) FROM generate_series(1, 100) i;
		ANALYZE places`)
	var out bytes.Buffer
	if err := run(ctx, db, args{Table: "places"}, &out); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	t.Log("\n" + s)
	for _, want := range []string{
		"General information\nTABLE ",
		"  100   ", "  unknown  ST_Point\n",
		"Places we know\n",
		"\nColumns\n#  NAME ",
		"1  cartodb_id  integer ", "not null  nextval('places_cartodb_id_seq'::regclass)",
		"name        text", "what people call it",
		"geometry(Point,4326)",
		"generated always as (upper(name)) stored",
		"\nIndexes\nNAME ",
		"places_pkey          primary key  btree (cartodb_id)",
		"places_code_key      unique       btree (code)",
		"places_the_geom_idx  index        gist (the_geom)",
		"\nFunctions of the owner\nFUNCTION ",
		"touch()   function  trigger  plpgsql",
		"\nTriggers\nNAME ",
		"places_touch  BEFORE  INSERT OR UPDATE  ROW    touch()   enabled",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

func TestTableInfoQuotedName(t *testing.T) {
	acct, ctx, db := setup(t)
	acct.Exec(t, `CREATE TABLE "My Table" (id int)`)
	var out bytes.Buffer
	if err := run(ctx, db, args{Table: `"My Table"`}, &out); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	if f := strings.Fields(strings.Split(s, "\n")[2]); len(f) != 7 || f[0] != acct.User+`."My` || !strings.Contains(f[2], acct.User) || f[3] != "0" || f[4] != "0.00" || f[5] != "unknown" || f[6] != "none" ||
		!strings.Contains(s, "\nIndexes\n(none)\n") || !strings.HasSuffix(s, "\nTriggers\n(none)\n") {
		t.Fatalf("output:\n%s", s)
	}
}

func TestTableInfoMissing(t *testing.T) {
	_, ctx, db := setup(t)
	err := run(ctx, db, args{Table: "nope"}, &bytes.Buffer{})
	var ce *carto.Error
	if !errors.As(err, &ce) || !strings.Contains(ce.Message(), `relation "nope" does not exist`) {
		t.Fatalf("err = %v", err)
	}
}

// TestTableInfoPrivacy: a cartodbfied table is a dataset, and its privacy is read from the datasets
// API and follows a change made there, also when read with the public key (a link dataset is
// anyone's to see); a table of another schema has no dataset, and its privacy is unknown.
func TestTableInfoPrivacy(t *testing.T) {
	acct, ctx, db := setup(t)
	acct.Exec(t, `CREATE TABLE spots (name text);
		SELECT CDB_CartodbfyTable(current_schema(), 'spots')`)
	privacy := func(db *sql.DB, table string) string {
		t.Helper()
		var out bytes.Buffer
		if err := run(ctx, db, args{Table: table}, &out); err != nil {
			t.Fatal(err)
		}
		return strings.Fields(strings.Split(out.String(), "\n")[2])[4]
	}
	if got := privacy(db, "spots"); got != "PRIVATE" {
		t.Fatalf("privacy of a new dataset = %q, want PRIVATE", got)
	}
	if _, err := account.NewDatasets(acct.Client(t)).SetPrivacy(ctx, "spots", account.Link); err != nil {
		t.Fatal(err)
	}
	if got := privacy(db, "spots"); got != "LINK" {
		t.Fatalf("privacy after SetPrivacy(LINK) = %q", got)
	}
	public := driver.OpenDBFromClient(acct.PublicClient(t))
	t.Cleanup(func() { public.Close() })
	if got := privacy(public, "spots"); got != "LINK" {
		t.Fatalf("privacy read with the public key = %q, want LINK (a link dataset is anyone's to see)", got)
	}
	if got := privacy(db, "cartodb.cdb_tablemetadata"); got != "unknown" {
		t.Fatalf("privacy of another schema's table = %q, want unknown", got)
	}
}

// TestTableInfoGeometryTypes: a cartodbfied table shows the_geom's types only (not its web
// mercator copy); several geometry columns are named.
func TestTableInfoGeometryTypes(t *testing.T) {
	acct, ctx, db := setup(t)
	acct.Exec(t, `CREATE TABLE shapes (name text);
		SELECT CDB_CartodbfyTable(current_schema(), 'shapes');
		INSERT INTO shapes (name, the_geom) VALUES ('a', CDB_LatLng(1, 2)),
		  ('b', ST_SetSRID('LINESTRING(0 0, 1 1)'::geometry, 4326)), ('c', NULL);
		CREATE TABLE two (g geometry, h geography)`)
	var out bytes.Buffer
	if err := run(ctx, db, args{Table: "shapes"}, &out); err != nil {
		t.Fatal(err)
	}
	if line := strings.Split(out.String(), "\n")[2]; !strings.Contains(line, "  3     ") || !strings.HasSuffix(line, "PRIVATE  ST_LineString,ST_Point") {
		t.Errorf("shapes: %q", line)
	}
	out.Reset()
	acct.Exec(t, `INSERT INTO two VALUES ('POINT(1 1)', 'POLYGON((0 0, 1 0, 1 1, 0 0))')`)
	if err := run(ctx, db, args{Table: "two"}, &out); err != nil {
		t.Fatal(err)
	}
	if line := strings.Split(out.String(), "\n")[2]; !strings.HasSuffix(line, "g: ST_Point; h: ST_Polygon") {
		t.Errorf("two: %q", line)
	}
}
