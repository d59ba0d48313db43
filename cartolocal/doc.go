// Package cartolocal is a local CARTO-compatible server backed by a real PostgreSQL + PostGIS.
//
// It answers CARTO's SQL API (and, as they land, the Batch SQL, COPY, Import and Maps APIs) in the
// shapes CARTO's own servers use, byte for byte where it matters: rows first and metadata last, the
// error trailer on a 200, CARTO's statuses and error bodies. gocarto's tests run against it, and so
// can users' own tests and CI jobs: import the package, or run cmd/cartolocal.
//
// Each user gets a schema and a role; the master key runs SQL as that role, the public key (or no
// key) as a read-only public role that sees only the tables granted to it, as on CARTO.
package cartolocal
