// Package cartolocal is a local CARTO-compatible server backed by a real PostgreSQL + PostGIS.
//
// It answers CARTO's SQL API (with COPY and every export format), Batch SQL API, Import API and sync
// tables, Maps API, account APIs (datasets, maps, tables, users, .carto exports) and Auth API in the
// shapes CARTO's own servers use, byte for byte where it matters: rows first and metadata last, the
// error trailer on a 200, CARTO's statuses and error bodies in each server's dialect. gocarto's tests run
// against it, and so can users' own tests and CI jobs: import the package (or cartotest), or run
// cmd/cartolocal.
//
// Each user gets a schema and a role; the master key runs SQL as that role, the public key (or no
// key) as a read-only public role that sees only the tables granted to it, and each regular API key
// as a role of its own holding exactly its grants, as on CARTO.
//
// Server is the one entry point. Underneath, it is a composition of one package per concern:
// pgcluster runs the private PostgreSQL; internal/users holds the accounts, their keys and their
// connection pools; internal/httpapi what every API shares on the HTTP side (parameters, CARTO's
// error dialects, Mount); and each CARTO API is a package of its own (internal/sqlapi,
// internal/batch, ...) with a constructor taking its dependencies and a Register method that
// mounts its routes under both /api/... and /user/{user}/api/.... New builds each one and
// registers it on one http.ServeMux. docs/design.md draws the whole map.
package cartolocal
