package driver

import (
	"context"
	"database/sql"
	"fmt"
	"io"

	"github.com/gocarto/carto/sqlapi"
)

// SQLAPI returns the SQL API client behind a connection of this driver, for code that holds a
// *sql.Conn and wants what database/sql has no words for (COPY, exports):
//
//	err := conn.Raw(func(dc any) error {
//		api, err := driver.SQLAPI(dc)
//		if err != nil {
//			return err
//		}
//		_, err = api.CopyTo(ctx, "COPY places TO STDOUT", w)
//		return err
//	})
//
// It fails for a connection of another driver.
func SQLAPI(driverConn any) (*sqlapi.Client, error) {
	c, ok := driverConn.(*conn)
	if !ok {
		return nil, fmt.Errorf("carto driver: %T is not a connection of the carto driver", driverConn)
	}
	return sqlapi.New(c.ctr.client), nil
}

// apiOf finds the SQL API client of db's account. The connection is given back at once: the
// client is shared by all of them and a COPY needs none.
func apiOf(ctx context.Context, db *sql.DB) (*sqlapi.Client, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	var api *sqlapi.Client
	err = conn.Raw(func(dc any) error {
		api, err = SQLAPI(dc)
		return err
	})
	return api, err
}

// CopyFrom runs copySQL, a COPY ... FROM STDIN, with r's data on the account db reaches, through
// the SQL API's copyfrom endpoint (see sqlapi.Client.CopyFrom: gzip on the wire by default,
// constant memory, nothing copied on any failure).
func CopyFrom(ctx context.Context, db *sql.DB, copySQL string, r io.Reader, opts ...sqlapi.Option) (sqlapi.CopyResult, error) {
	api, err := apiOf(ctx, db)
	if err != nil {
		return sqlapi.CopyResult{Rows: -1}, err
	}
	return api.CopyFrom(ctx, copySQL, r, opts...)
}

// CopyTo runs copySQL, a COPY ... TO STDOUT, on the account db reaches and writes its output to w
// as it arrives (see sqlapi.Client.CopyTo).
func CopyTo(ctx context.Context, db *sql.DB, copySQL string, w io.Writer, opts ...sqlapi.Option) (sqlapi.CopyResult, error) {
	api, err := apiOf(ctx, db)
	if err != nil {
		return sqlapi.CopyResult{Rows: -1}, err
	}
	return api.CopyTo(ctx, copySQL, w, opts...)
}
