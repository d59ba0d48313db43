// Command import_from_database imports a table, or the result of a query, of another database
// through CARTO's database connectors, like carto-python's examples/import_from_database.py:
//
//	import_from_database --connection='{"connector":{"provider":"postgres","connection":{"server":"db.example.com",
//	    "port":5432,"database":"shop","username":"reader","password":"…"},"schema":"public","table":"stores"}}'
//
// The JSON is carto-python's: {"connector":{...}}, or the connector object alone. The account
// comes from --base_url and --api_key, or $CARTO_BASE_URL and $CARTO_API_KEY (the master key).
// CARTO's open-source server has no connector providers; cartolocal has "postgres".
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/gocarto/carto/examples/internal/cli"
	"github.com/gocarto/carto/imports"
)

func main() {
	acct := cli.Register(flag.CommandLine)
	connection := flag.String("connection", "", "the connector, as JSON (required)")
	acct.Parse(os.Args[1:])
	if *connection == "" || flag.NArg() != 0 {
		acct.Fail(cli.Usagef("import_from_database -connection JSON"))
	}
	conn, err := parseConnection(*connection)
	if err != nil {
		acct.Fail(cli.Usagef("%v", err))
	}
	client, err := acct.Client()
	if err != nil {
		acct.Fail(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, imports.New(client), conn, os.Stdout); err != nil {
		acct.Fail(err)
	}
}

// connectorJSON is the connector as carto-python's example writes it.
type connectorJSON struct {
	Provider   string `json:"provider"`
	Connection struct {
		Server   string `json:"server"`
		Port     int    `json:"port"`
		Database string `json:"database"`
		Username string `json:"username"`
		Password string `json:"password"`
		SSLMode  string `json:"sslmode"`
	} `json:"connection"`
	Schema   string `json:"schema"`
	Table    string `json:"table"`
	SQLQuery string `json:"sql_query"`
	ImportAs string `json:"import_as"`
	Encoding string `json:"encoding"`
}

// parseConnection reads --connection: {"connector":{...}} or the connector itself. Its
// errors never quote the JSON, which holds a password.
func parseConnection(s string) (imports.Connector, error) {
	var wrapped struct {
		Connector *connectorJSON `json:"connector"`
	}
	if err := json.Unmarshal([]byte(s), &wrapped); err != nil {
		return imports.Connector{}, errors.New("--connection is not valid JSON")
	}
	cj := wrapped.Connector
	if cj == nil {
		cj = new(connectorJSON)
		if err := json.Unmarshal([]byte(s), cj); err != nil {
			return imports.Connector{}, errors.New("--connection is not valid JSON")
		}
	}
	if cj.Provider == "" {
		return imports.Connector{}, errors.New("--connection has no provider")
	}
	return imports.Connector{Provider: cj.Provider, Schema: cj.Schema, Table: cj.Table, SQLQuery: cj.SQLQuery,
		ImportAs: cj.ImportAs, Encoding: cj.Encoding, Connection: imports.Connection{
			Server: cj.Connection.Server, Port: cj.Connection.Port, Database: cj.Connection.Database,
			Username: cj.Connection.Username, Password: cj.Connection.Password, SSLMode: cj.Connection.SSLMode}}, nil
}

// run imports the connector's table and prints it.
func run(ctx context.Context, c *imports.Client, conn imports.Connector, w io.Writer) error {
	imp, err := c.FromConnector(ctx, conn, nil)
	if err != nil {
		return err
	}
	if imp, err = c.Wait(ctx, imp.ID); err != nil {
		return err
	}
	fmt.Fprintln(w, "table:", imp.TableName)
	fmt.Fprintln(w, "dataset_id:", imp.TableID)
	return nil
}
