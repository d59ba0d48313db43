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

	"github.com/gocarto/carto"
	"github.com/gocarto/carto/imports"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "import_from_database:", err)
		os.Exit(1)
	}
}

const usage = "usage: import_from_database [--base_url=URL] [--api_key=KEY] --connection=JSON"

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

func run(ctx context.Context, args []string, w io.Writer) error {
	fs := flag.NewFlagSet("import_from_database", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	baseURL := fs.String("base_url", os.Getenv("CARTO_BASE_URL"), "the account's base URL (default $CARTO_BASE_URL)")
	apiKey := fs.String("api_key", os.Getenv("CARTO_API_KEY"), "the account's master API key (default $CARTO_API_KEY)")
	version := fs.Bool("version", false, "print the version and exit")
	connection := fs.String("connection", "", "the connector, as JSON")
	perr := fs.Parse(args)
	if perr == nil && *version {
		fmt.Fprintln(w, carto.Version)
		return nil
	}
	if perr != nil || fs.NArg() != 0 || *baseURL == "" || *connection == "" {
		return errors.New(usage)
	}
	conn, err := parseConnection(*connection)
	if err != nil {
		return err
	}
	client, err := carto.NewClient(*baseURL, carto.WithAPIKey(*apiKey))
	if err != nil {
		return err
	}
	c := imports.New(client)
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
