// Package account is the client of the APIs that manage a CARTO account rather than query it:
// datasets and maps (api/v1/viz), tables (api/v1/tables), users (api/v1/users and the
// organization users of api/v1/organization), map exports to .carto files
// (api/v3/visualization_exports) and the Auth API's keys (api/v3/api_keys).
//
// The package is named after what these APIs have in common, the account, as carto-python's
// datasets, visualizations, tables, users and api_keys modules are its account management; one
// package keeps their shared parts (the visualization shape, paging, Rails' error messages)
// together, and mirrors cartolocal's server of the same APIs.
//
// Each API has its own handle made from a *carto.Client:
//
//	ds := account.NewDatasets(client)
//	for v, err := range ds.List(ctx, nil) {
//		if err != nil {
//			return err
//		}
//		fmt.Println(v.Name, v.Privacy)
//	}
//	_, err := ds.SetPrivacy(ctx, "places", account.Public)
//
// Every list is an iterator (iter.Seq2) that pages through the whole result, one request per page,
// and stops at the first error. Every failure is a *carto.Error carrying the message CARTO's Rails
// app answered (an empty 401 reads "401 Unauthorized").
//
// These APIs are not public on CARTO: they are what CARTO's own dashboard uses, as carto-python
// warns. cartolocal serves all of them.
package account
