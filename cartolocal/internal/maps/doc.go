// Package maps is cartolocal's Maps API (Windshaft-cartodb's /api/v1/map): anonymous maps,
// named maps (templates with placeholders), their layergroups and Mapbox Vector Tiles built with
// the SQL of Windshaft's pg-mvt renderer, and a map preview page.
//
// Raster formats (png, grid.json, static images) need Mapnik and CartoCSS; cartolocal answers
// them with a 400 in Windshaft's dialect saying it serves vector tiles.
//
// Layergroups and templates persist in PostgreSQL (cartolocal.map_layergroups and
// cartolocal.map_templates), so a restart keeps every map and its tile URLs.
package maps
