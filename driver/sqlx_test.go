package driver

import (
	"database/sql"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/paulmach/orb"

	"github.com/gocarto/carto/cartolocal/cartotest"
	"github.com/gocarto/carto/geo"
)

// place holds every kind of value a CARTO table hands to sqlx.
type place struct {
	ID     int64                `db:"cartodb_id"`
	Name   string               `db:"name"`
	Geom   geo.Geometry         `db:"the_geom"`
	Point  geo.Typed[orb.Point] `db:"pt"`
	Opened time.Time            `db:"opened"`
	Closed sql.NullTime         `db:"closed"`
	Pop    sql.NullInt64        `db:"pop"`
	Score  sql.NullFloat64      `db:"score"`
	Note   sql.NullString       `db:"note"`
	Open   sql.NullBool         `db:"open"`
	Photo  []byte               `db:"photo"`
}

func TestSqlx(t *testing.T) {
	acct := cartotest.New(t)
	acct.Exec(t, `CREATE TABLE places (cartodb_id serial PRIMARY KEY, name text NOT NULL,
		the_geom geometry(Geometry, 4326), pt geometry(Point, 4326), opened timestamptz, closed timestamptz,
		pop int8, score float8, note text, open bool, photo bytea)`)

	db, err := sqlx.Connect("carto", acct.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.Rebind("? ?") != "$1 $2" {
		t.Fatalf("Rebind: %q; the bindvar is not registered", db.Rebind("? ?"))
	}

	opened := time.Date(2024, 3, 1, 9, 30, 0, 0, time.UTC)
	in := []place{
		{Name: "Madrid", Geom: geo.New(orb.Polygon{{{0, 0}, {1, 0}, {1, 1}, {0, 0}}}, 4326),
			Point: geo.NewTyped(orb.Point{-3.7038, 40.4168}, 4326), Opened: opened,
			Closed: sql.NullTime{Time: opened.Add(48 * time.Hour), Valid: true}, Pop: sql.NullInt64{Int64: 3_300_000, Valid: true},
			Score: sql.NullFloat64{Float64: 4.5, Valid: true}, Note: sql.NullString{String: "capital's", Valid: true},
			Open: sql.NullBool{Bool: true, Valid: true}, Photo: []byte{0, 1, 2, 0xff}},
		{Name: "Nowhere", Point: geo.NewTyped(orb.Point{0, 0}, 4326), Opened: opened},
	}
	for _, p := range in {
		// sqlx's named queries would mangle x::type casts; there are none here.
		res, err := db.NamedExec(`INSERT INTO places (name, the_geom, pt, opened, closed, pop, score, note, open, photo)
			VALUES (:name, :the_geom, :pt, :opened, :closed, :pop, :score, :note, :open, :photo)`, p)
		if err != nil {
			t.Fatalf("NamedExec %s: %v", p.Name, err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			t.Errorf("RowsAffected %d, %v", n, err)
		}
	}

	var got []place
	if err := db.Select(&got, "SELECT * FROM places ORDER BY cartodb_id"); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d places", len(got))
	}
	m := got[0]
	if m.ID != 1 || m.Name != "Madrid" || m.Geom.SRID != 4326 || !m.Opened.Equal(opened) || !m.Closed.Valid ||
		!m.Closed.Time.Equal(opened.Add(48*time.Hour)) || m.Pop.Int64 != 3_300_000 || m.Score.Float64 != 4.5 ||
		m.Note.String != "capital's" || !m.Open.Bool || string(m.Photo) != "\x00\x01\x02\xff" {
		t.Errorf("Madrid came back as %+v", m)
	}
	if poly, ok := m.Geom.Geom.(orb.Polygon); !ok || len(poly[0]) != 4 {
		t.Errorf("Madrid's polygon: %#v", m.Geom)
	}
	if m.Point.Geom != (orb.Point{-3.7038, 40.4168}) {
		t.Errorf("Madrid's point: %#v", m.Point)
	}
	n := got[1]
	if n.Geom.Geom != nil || n.Closed.Valid || n.Pop.Valid || n.Score.Valid || n.Note.Valid || n.Open.Valid || n.Photo != nil {
		t.Errorf("Nowhere's NULLs came back as %+v", n)
	}

	var one place
	if err := db.Get(&one, "SELECT * FROM places WHERE name = $1", "Nowhere"); err != nil {
		t.Fatal(err)
	}
	if one.ID != 2 {
		t.Errorf("Get: %+v", one)
	}

	// In expands a slice into ?, ?, …; Rebind turns them into $1, $2, ….
	q, args, err := sqlx.In("SELECT name FROM places WHERE cartodb_id IN (?) AND name <> ? ORDER BY name", []int{1, 2, 3}, "x")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	if err := db.Select(&names, db.Rebind(q), args...); err != nil {
		t.Fatal(err)
	}
	if len(names) != 2 || names[0] != "Madrid" || names[1] != "Nowhere" {
		t.Errorf("In: %q", names)
	}

	// Named queries with a struct argument, through Rebind as well.
	rows, err := db.NamedQuery("SELECT cartodb_id, name FROM places WHERE pop > :pop", map[string]any{"pop": 1000})
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	count := 0
	for rows.Next() {
		var p place
		if err := rows.StructScan(&p); err != nil {
			t.Fatal(err)
		}
		count++
	}
	if count != 1 {
		t.Errorf("NamedQuery: %d rows", count)
	}
}
