package maps

// TileSQL is the SQL the server runs for tile z/x/y of every mapnik layer of a MapConfig whose
// layers' columns are cols (name and type OID, per layer), for the benchmark's baseline.
func TileSQL(config []byte, cols [][]struct {
	Name string
	OID  uint32
}, z, x, y int) (string, error) {
	cfg, werr := parseMapConfig(config)
	if werr != nil {
		return "", werr
	}
	p := paramsFor(cfg)
	b := newTileBox(z, x, y)
	var parts []string
	for i, l := range cfg.Layers {
		var cs []column
		for _, c := range cols[i] {
			cs = append(cs, column{Name: c.Name, OID: c.OID})
		}
		parts = append(parts, tileLayerSQL(l, cs, b, p))
	}
	return tileSQL(parts), nil
}
