package importer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Connector is a connector import's parameters (CARTO's docs, 07-database-connectors.md).
type Connector struct {
	Provider   string `json:"provider"`
	Connection struct {
		Server   string          `json:"server"`
		Port     json.RawMessage `json:"port,omitempty"` // a number or a string
		Database string          `json:"database"`
		Username string          `json:"username"`
		Password string          `json:"password"`
		SSLMode  string          `json:"sslmode"`
	} `json:"connection"`
	Schema   string `json:"schema"`
	Table    string `json:"table"`
	SQLQuery string `json:"sql_query"`
	ImportAs string `json:"import_as"`
	Encoding string `json:"encoding"`
}

// ParseConnector reads a connector's JSON. Providers other than postgres are not available
// (1501), as on a CARTO without them; a postgres connector without a table or a query has
// invalid parameters (1502).
func ParseConnector(raw []byte) (*Connector, error) {
	var c Connector
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, Fail(CodeConnectorParams, err)
	}
	if c.Provider != "postgres" {
		return nil, Failf(CodeConnectorDisabled, "connector provider %q is not available", c.Provider)
	}
	if c.Table == "" && c.SQLQuery == "" {
		return nil, Failf(CodeConnectorParams, "a postgres connector needs table or sql_query")
	}
	if c.Connection.Server == "" || c.Connection.Database == "" {
		return nil, Failf(CodeConnectorParams, "a postgres connector needs connection.server and connection.database")
	}
	return &c, nil
}

// Base is the name the connector's table is proposed from.
func (c *Connector) Base() string {
	switch {
	case c.ImportAs != "":
		return c.ImportAs
	case c.Table != "":
		return c.Table
	}
	return DefaultTableName
}

// conninfo is the source database's libpq keyword/value string (a socket directory as server
// works too).
func (c *Connector) conninfo() string {
	q := func(v string) string {
		return "'" + strings.ReplaceAll(strings.ReplaceAll(v, `\`, `\\`), "'", `\'`) + "'"
	}
	parts := []string{"host=" + q(c.Connection.Server), "dbname=" + q(c.Connection.Database), "connect_timeout=15"}
	if p := strings.Trim(string(c.Connection.Port), `"`); p != "" && p != "null" {
		if _, err := strconv.Atoi(p); err == nil {
			parts = append(parts, "port="+p)
		}
	}
	if c.Connection.Username != "" {
		parts = append(parts, "user="+q(c.Connection.Username))
	}
	if c.Connection.Password != "" {
		parts = append(parts, "password="+q(c.Connection.Password))
	}
	mode := "prefer"
	if c.Connection.SSLMode != "" {
		mode = c.Connection.SSLMode
	}
	return strings.Join(append(parts, "sslmode="+q(mode)), " ")
}

// query is what is read from the source.
func (c *Connector) query() string {
	if c.SQLQuery != "" {
		return c.SQLQuery
	}
	schema := c.Schema
	if schema == "" {
		schema = "public"
	}
	return "SELECT * FROM " + pgx.Identifier{schema, c.Table}.Sanitize()
}

// LoadConnector copies the connector's table or query from its PostgreSQL into the staging
// table: the columns keep the source's types where the target knows them (text otherwise), and
// the rows stream through COPY, never held whole.
func LoadConnector(ctx context.Context, dst *pgx.Conn, c *Connector, table string) error {
	src, err := pgx.Connect(ctx, c.conninfo())
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return Failf(CodeConnector, "connecting to the source database: %s", safeErr(err, c))
	}
	defer src.Close(context.WithoutCancel(ctx))
	q := c.query()
	rows, err := src.Query(ctx, "SELECT * FROM ("+q+") AS cdb_connector_source LIMIT 0")
	if err != nil {
		return Failf(CodeConnector, "reading the source: %s", safeErr(err, c))
	}
	fields := rows.FieldDescriptions()
	rows.Close()
	if err := rows.Err(); err != nil {
		return Failf(CodeConnector, "reading the source: %s", safeErr(err, c))
	}
	var defs []string
	for _, f := range fields {
		var typ string
		if err := src.QueryRow(ctx, "SELECT format_type($1, $2)", f.DataTypeOID, f.TypeModifier).Scan(&typ); err != nil {
			return Failf(CodeConnector, "reading the source's types: %s", safeErr(err, c))
		}
		var ok bool
		if err := dst.QueryRow(ctx, "SELECT to_regtype($1) IS NOT NULL", typ).Scan(&ok); err != nil || !ok {
			typ = "text"
		}
		defs = append(defs, ident(f.Name)+" "+typ)
	}
	qt := pgx.Identifier{StagingSchema, table}.Sanitize()
	if _, err := dst.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+StagingSchema); err != nil {
		return err
	}
	if _, err := dst.Exec(ctx, "DROP TABLE IF EXISTS "+qt); err != nil {
		return err
	}
	if _, err := dst.Exec(ctx, fmt.Sprintf("CREATE TABLE %s (%s)", qt, strings.Join(defs, ", "))); err != nil {
		return Fail(CodeConnector, err)
	}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := src.PgConn().CopyTo(ctx, pw, "COPY ("+q+") TO STDOUT")
		pw.CloseWithError(err)
		done <- err
	}()
	_, err = dst.PgConn().CopyFrom(ctx, pr, "COPY "+qt+" FROM STDIN")
	pr.CloseWithError(errors.New("copy ended"))
	srcErr := <-done
	if srcErr != nil && !errors.Is(srcErr, io.ErrClosedPipe) {
		return Failf(CodeConnector, "reading the source: %s", safeErr(srcErr, c))
	}
	if err != nil {
		return Fail(CodeLoad, err)
	}
	return nil
}

// safeErr is err's text without the source's password.
func safeErr(err error, c *Connector) string {
	s := err.Error()
	if c.Connection.Password != "" {
		s = strings.ReplaceAll(s, c.Connection.Password, "*****")
	}
	return s
}
