// Command nearby_places runs a geometry query on a CARTO account through the carto database/sql
// driver: the places of the example migrations nearest to a point, with their location decoded
// from PostGIS into an orb point and their distance computed on the sphere by PostGIS.
//
//	nearby_places -lat 40.4168 -lng -3.7038
//
// The account comes from -base-url and -api-key, or $CARTO_BASE_URL and $CARTO_API_KEY, or from
// -dsn or $CARTO_DSN (see examples/README.md).
//
// It is the last step of the README's quick start, after cartomigrate applied migrations/example.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"text/tabwriter"

	"github.com/gocarto/carto/examples/internal/cli"
	"github.com/gocarto/carto/geo"
)

// args are the program's options.
type args struct {
	Lat, Lng float64 // the point to measure from, in degrees (WGS 84)
	Limit    int     // how many places to print
}

func main() {
	var a args
	acct := cli.Register(flag.CommandLine, cli.WithDSN())
	flag.Float64Var(&a.Lat, "lat", 40.4168, "latitude of the point to measure from")
	flag.Float64Var(&a.Lng, "lng", -3.7038, "longitude of the point to measure from")
	flag.IntVar(&a.Limit, "limit", 10, "how many places to print")
	acct.Parse(os.Args[1:])
	if flag.NArg() > 0 {
		acct.Fail(cli.Usagef("nearby_places [-lat L -lng L -limit N]"))
	}
	db, err := acct.OpenDB()
	if err != nil {
		acct.Fail(err)
	}
	defer db.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, db, a, os.Stdout); err != nil {
		acct.Fail(err)
	}
}

// nearestQuery measures on the geography type so distances are metres on the sphere, not degrees.
const nearestQuery = `
SELECT name, country, the_geom,
       ST_Distance(the_geom::geography, CDB_LatLng($1, $2)::geography) AS distance_m
FROM places
WHERE the_geom IS NOT NULL
ORDER BY distance_m, cartodb_id
LIMIT $3`

// run prints the a.Limit places nearest to (a.Lat, a.Lng) as an aligned table.
func run(ctx context.Context, db *sql.DB, a args, w io.Writer) error {
	if a.Limit <= 0 {
		return fmt.Errorf("-limit must be positive, got %d", a.Limit)
	}
	rows, err := db.QueryContext(ctx, nearestQuery, a.Lat, a.Lng, a.Limit)
	if err != nil {
		return err
	}
	defer rows.Close()
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tCOUNTRY\tLOCATION\tDISTANCE")
	n := 0
	for rows.Next() {
		var (
			name, country string
			at            geo.Point
			distance      float64
		)
		if err := rows.Scan(&name, &country, &at, &distance); err != nil {
			return err
		}
		fmt.Fprintf(tw, "%s\t%s\tPOINT(%.4f %.4f)\t%.1f km\n", name, country, at.Geom.X(), at.Geom.Y(), distance/1000)
		n++
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%d places nearest to (%g, %g)\n", n, a.Lat, a.Lng)
	return err
}
