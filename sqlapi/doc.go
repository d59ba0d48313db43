// Package sqlapi is CARTO's SQL API as it is, for code that wants answers rather than rows: a
// query's answer in any of CARTO's formats, COPY in both directions, and GeoJSON read one feature
// at a time. The database/sql driver (package driver) sends its requests through this package too,
// so there is one request path.
//
//	c := sqlapi.New(client) // client is a *carto.Client
//	f, _ := os.Create("places.gpkg")
//	_, err := c.Query(ctx, "SELECT * FROM places", f, sqlapi.WithFormat(sqlapi.GeoPackage))
//
// # Formats
//
// [Client.Query] streams the answer into an io.Writer, so memory stays flat at any size: json,
// geojson, csv, shp (a zip holding .shp, .shx, .dbf, .prj and .cpg), kml, gpkg, spatialite, svg and
// topojson. CARTO's filename, skipfields and dp parameters are [WithFilename], [WithSkipFields]
// and [WithDP]. CARTO reports an error that happens after the first row of a json or geojson
// answer inside a 200 answer, at its end; Query reads the answer as it copies it and returns that
// error, so a failed query is never a short success. [Client.Open] hands out the answer's body
// itself, and [NewFeatureReader] reads a geojson body feature by feature.
//
// # COPY
//
// [Client.CopyFrom] streams an io.Reader into a COPY ... FROM STDIN, gzip-compressed on the wire
// unless [WithoutGzip], with constant memory; [Client.CopyTo] streams a COPY ... TO STDOUT into an
// io.Writer. Both report progress to [WithProgress]. CARTO appends an error that happens after a
// COPY TO answer began to the data itself; CopyTo recognises it (and any answer cut short, which
// never ends where a COPY output can end) and returns an error, without writing the error's text
// to the writer.
//
// Every failure is a *carto.Error or wraps one, as for the rest of gocarto; the API key never
// appears in one.
package sqlapi
