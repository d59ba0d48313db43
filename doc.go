// Package carto is the core of gocarto, the Go toolkit for CARTO: a Client that holds an account's
// base URL, API key and HTTP settings, the one request path every API package uses (authentication,
// User-Agent, bounded retries), and *Error, the typed error every package returns for what CARTO
// answered.
//
// The API packages build on it: driver (database/sql over the SQL API), batch (Batch SQL API),
// geo (geometry values) and migrate (golang-migrate over Batch SQL). cartolocal is a local
// CARTO-compatible server for running all of them offline.
//
// The API key is sent as HTTP Basic auth (USER:API_KEY), never in a URL, and never appears in an
// error, a log line or a printed URL.
//
// gocarto is distributed under the BSD 3-Clause License (the LICENSE file at the module's root);
// third-party files embedded in its binaries carry their own licenses, listed in
// THIRD_PARTY_NOTICES.
package carto

// Version is gocarto's version, sent in the User-Agent as gocarto/Version.
const Version = "0.1.0"
