// Command export_dataset saves a dataset (a table) of a CARTO account in one of the SQL API's
// export formats, as carto-python's export_dataset.py does:
//
//	export_dataset -base-url https://alice.carto.com -api-key KEY -dataset places -format gpkg
//
// writes places.gpkg. Formats: csv (the default), geojson, json, shp, kml, gpkg, spatialite, svg
// and topojson. The file is named DATASET.FORMAT whatever it holds, as carto-python names it: a
// shp export is a zip of the Shapefile's files (GDAL opens it as /vsizip/{places.shp}/places.shp). The answer streams to the file, so memory stays flat at any size;
// a failed export leaves no file behind.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"

	"github.com/gocarto/carto"
	"github.com/gocarto/carto/examples/internal/cli"
	"github.com/gocarto/carto/sqlapi"
)

// args are the program's options.
type args struct {
	Dataset string // the table to export
	Format  string // the SQL API's format parameter
	Dir     string // where to write DATASET.FORMAT
}

func main() {
	var a args
	acct := cli.Register(flag.CommandLine)
	flag.StringVar(&a.Dataset, "dataset", "", "the dataset (table) to export (required)")
	flag.StringVar(&a.Format, "format", "csv", "csv, geojson, json, shp, kml, gpkg, spatialite, svg or topojson")
	flag.StringVar(&a.Dir, "dir", ".", "the directory to write DATASET.FORMAT in")
	acct.Parse(os.Args[1:])
	if a.Dataset == "" || flag.NArg() > 0 {
		acct.Fail(cli.Usagef("export_dataset -dataset TABLE [-format csv] [-dir .]"))
	}
	client, err := acct.Client()
	if err != nil {
		acct.Fail(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	path, err := run(ctx, client, a)
	if err != nil {
		acct.Fail(err)
	}
	fmt.Println("saved", path)
}

// tableName is what a dataset's name may be: a table, optionally schema-qualified. It is written
// into the SQL as is, as carto-python does, so nothing else may pass.
var tableName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$`)

// run exports a.Dataset to a.Dir/DATASET.FORMAT and returns the file's path.
func run(ctx context.Context, client *carto.Client, a args) (string, error) {
	if !tableName.MatchString(a.Dataset) {
		return "", fmt.Errorf("%q is not a table name", a.Dataset)
	}
	path := filepath.Join(a.Dir, a.Dataset+"."+a.Format)
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	_, err = sqlapi.New(client).Query(ctx, "SELECT * FROM "+a.Dataset, f,
		sqlapi.WithFormat(sqlapi.Format(a.Format)), sqlapi.WithFilename(a.Dataset))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		// Half a file is worse than none.
		return "", errors.Join(err, os.Remove(path))
	}
	return path, nil
}
