// Package imports is a client for CARTO's Import API (/api/v1/imports) and sync tables
// (/api/v1/synchronizations): getting files, URLs, other databases and queries into an account
// as datasets.
//
//	c := imports.New(client) // client: a *carto.Client with the master key
//	f, _ := os.Open("places.csv")
//	imp, err := c.Upload(ctx, "places.csv", f, nil) // streamed, never held in memory
//	imp, err = c.Wait(ctx, imp.ID)                   // the table: imp.TableName
//
// Upload sends the file as a multipart part named "file", streaming it (with Options.Progress
// reporting the bytes sent). FromURL, FromConnector and FromQuery start the other kinds of
// import. Wait polls (250 ms, growing to 5 s, back to 250 ms whenever the state changes), calls
// OnChange on each change, and returns an *ImportError carrying CARTO's code, title and advice
// when the import failed.
//
// A .carto file, a map exported with its data (package account's Visualizations.Export and
// Download), uploads like any file: its tables are imported, and with Options.CreateVis its map
// is made again in this account (Import.VisualizationID), its layers on the tables as the import
// named them.
//
// Sync tables re-import a URL (or a connector) on an interval of at least 15 minutes:
// CreateSync, GetSync, ListSyncs, ForceSync (CARTO's sync_now, which a sync accepts 15 minutes
// after its last run), DeleteSync (the table stays) and WaitSync.
//
// Unlike carto-python this client sends no empty import before each real one, keeps URLs as
// given, sends booleans as JSON booleans (so type_guessing=false is honoured), and forces a sync
// through sync_now.
package imports
