package geo

import (
	"database/sql"
	"fmt"
)

// scanner2D is implemented by the destinations Force2D can wrap.
type scanner2D interface {
	scan(src any, force2D bool) error
}

// Force2D wraps a *[Geometry] or *[Typed] destination so that Scan keeps X and Y and discards Z
// and M ordinates instead of refusing them with a [*DimensionError]:
//
//	var g geo.Geometry
//	err := rows.Scan(&id, geo.Force2D(&g)) // a POINT Z (1 2 3) becomes POINT(1 2)
//
// Use it when losing Z and M is what you want; ST_Force2D(col) in the query does the same on the
// server. Any other destination makes Scan return an error.
func Force2D(dst sql.Scanner) sql.Scanner { return force2D{dst} }

type force2D struct{ dst sql.Scanner }

func (f force2D) Scan(src any) error {
	d, ok := f.dst.(scanner2D)
	if !ok {
		return fmt.Errorf("geo: Force2D needs a *geo.Geometry or *geo.Typed destination, not %T", f.dst)
	}
	return d.scan(src, true)
}
