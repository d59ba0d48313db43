// Package cartodb installs the cartodb schema: the CARTO SQL functions (CDB_LatLng,
// CDB_CartodbfyTable, ...) cartolocal offers every account, written for cartolocal after the
// behaviour documented for CARTO's cartodb-postgresql extension (cartodb.sql), and PostGIS
// beneath them.
package cartodb

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

//go:embed cartodb.sql
var cartodbSQL string

// ErrNoPostGIS means the PostgreSQL server has no PostGIS to install.
var ErrNoPostGIS = errors.New("PostGIS is not installed in this PostgreSQL: " +
	"install PostgreSQL and PostGIS (Debian/Ubuntu: apt-get install postgresql-15 postgresql-15-postgis-3) or set Config.PGURL to an existing server")

// InstallPostGIS creates the postgis extension unless it exists, and postgis_raster beside it
// (CARTO's databases have both, so raster columns work) when the server has it, and returns the
// quoted schema holding them, which Install and the accounts' search_path need.
func InstallPostGIS(ctx context.Context, tx pgx.Tx) (schema string, err error) {
	var available bool
	if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'postgis')").Scan(&available); err != nil {
		return "", err
	}
	if !available {
		return "", ErrNoPostGIS
	}
	if _, err := tx.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS postgis"); err != nil {
		return "", fmt.Errorf("CREATE EXTENSION postgis: %w", err)
	}
	if err := tx.QueryRow(ctx, "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'postgis'").Scan(&schema); err != nil {
		return "", err
	}
	// Some distributions package raster support apart; PostGIS without it still serves
	// everything but raster columns, so its absence is not an error.
	if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'postgis_raster')").Scan(&available); err != nil {
		return "", err
	}
	if available {
		// It must live beside postgis, whose types it uses.
		if _, err := tx.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS postgis_raster SCHEMA "+schema); err != nil {
			return "", fmt.Errorf("CREATE EXTENSION postgis_raster: %w", err)
		}
	}
	return schema, nil
}

// Install creates or replaces the cartodb schema's functions, which name PostGIS by postgisSchema
// (from InstallPostGIS). Every statement is idempotent, so it runs at every start; its functions
// check grants to the public role (users.PublicRole), which must exist first.
func Install(ctx context.Context, tx pgx.Tx, postgisSchema string) error {
	if _, err := tx.Exec(ctx, strings.ReplaceAll(cartodbSQL, "@postgis@", postgisSchema)); err != nil {
		return fmt.Errorf("cartodb schema: %w", err)
	}
	return nil
}
