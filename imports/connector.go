package imports

// Connector names a table or a query of another database to import (CARTO's database
// connectors). CARTO's open-source server has no providers; cartolocal has "postgres".
type Connector struct {
	// Provider is the kind of database: "postgres", "mysql", "sqlserver", "hive", "bigquery", ...
	Provider   string
	Connection Connection
	// Schema and Table name the table to import (Schema defaults to public on postgres); or
	// SQLQuery is a query whose result is imported as ImportAs.
	Schema   string
	Table    string
	SQLQuery string
	ImportAs string
	// Encoding is the source's text encoding, when not UTF-8 (such as "iso88591").
	Encoding string
}

// Connection is how to reach the other database. The password travels to CARTO in the request
// body and is kept by it with the import.
type Connection struct {
	Server   string
	Port     int
	Database string
	Username string
	Password string
	// SSLMode is "require", "prefer" or "disable".
	SSLMode string
}

// wire is the connector as CARTO's JSON has it.
func (c Connector) wire() map[string]any {
	conn := map[string]any{"server": c.Connection.Server, "database": c.Connection.Database}
	if c.Connection.Port != 0 {
		conn["port"] = c.Connection.Port
	}
	if c.Connection.Username != "" {
		conn["username"] = c.Connection.Username
	}
	if c.Connection.Password != "" {
		conn["password"] = c.Connection.Password
	}
	if c.Connection.SSLMode != "" {
		conn["sslmode"] = c.Connection.SSLMode
	}
	m := map[string]any{"provider": c.Provider, "connection": conn}
	for k, v := range map[string]string{"schema": c.Schema, "table": c.Table, "sql_query": c.SQLQuery, "import_as": c.ImportAs, "encoding": c.Encoding} {
		if v != "" {
			m[k] = v
		}
	}
	return m
}
