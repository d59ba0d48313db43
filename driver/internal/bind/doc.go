// Package bind writes database/sql arguments into SQL text for package driver: CARTO's SQL API
// takes no bind parameters, so $1, $2 and @name become SQL literals here, found with the one
// PostgreSQL scanner (internal/pgscan) and written so that no value can change the statement's
// structure. It is the most dangerous code the driver owns, which is why it is a package of its
// own, with its round trips and fuzz targets run against a real PostgreSQL.
package bind
