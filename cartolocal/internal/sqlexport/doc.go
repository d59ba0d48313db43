// Package sqlexport writes the SQL API's file exports that CARTO makes with ogr2ogr (shp, kml,
// gpkg, spatialite): the query's columns as CARTO lists them, ogr2ogr run with CARTO's arguments
// into a temporary directory, and the Shapefile's files zipped. The SQL API server sends the file.
package sqlexport
