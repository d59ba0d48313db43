package maps_test

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// chromium finds Debian's chromium (or Google's). Without one the test fails, so CI cannot pass
// without running it; go test -short skips it.
func chromium(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: no browser test")
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("the preview test needs Chromium: apt-get install chromium (scripts/test.sh installs it), or go test -short")
	return ""
}

// TestPreviewInChromium opens the preview page of a layergroup in a real headless Chromium (WebGL
// on SwiftShader), and checks that tiles were requested and that the feature was drawn: the
// centre of the screenshot, where the map fits the data, is not the background's color.
func TestPreviewInChromium(t *testing.T) {
	bin := chromium(t)
	a := newAccount(t)
	tiles := a.countTiles(t)
	a.exec(t, `CREATE TABLE zone (name text, the_geom geometry(Geometry,4326));
		INSERT INTO zone VALUES ('square', ST_GeomFromText('POLYGON((-3.8 40.3,-3.6 40.3,-3.6 40.5,-3.8 40.5,-3.8 40.3))', 4326)),
		                        ('centre', CDB_LatLng(40.4, -3.7));
		SELECT CDB_CartodbfyTable('zone')`)
	got := postJSON(t, a.url("api/v1/map?api_key="+a.master), `{"version":"1.7.0","layers":[{"type":"mapnik","id":"zone","options":{"sql":"select * from zone"}}]}`)
	if got.status != 200 {
		t.Fatalf("%d %s", got.status, got.body)
	}
	page := a.url("maps/preview?layergroup=" + got.header.Get("X-Layergroup-Id") + "&api_key=" + a.master)
	html := do(t, "GET", page, "", "")
	if html.status != 200 || !strings.Contains(string(html.body), "maplibre-gl.mjs") || strings.Contains(string(html.body), "https://") {
		t.Fatalf("page: %d %s", html.status, html.body)
	}
	for _, asset := range []string{"maplibre-gl.mjs", "maplibre-gl-worker.mjs", "maplibre-gl.css", "LICENSE"} {
		if r := do(t, "GET", a.url("maps/preview/assets/"+asset), "", ""); r.status != 200 || len(r.body) < 1000 {
			t.Errorf("asset %s: %d, %d bytes", asset, r.status, len(r.body))
		}
	}

	if i := strings.Index(string(html.body), "const cfg = "); i >= 0 {
		t.Log(strings.SplitN(string(html.body[i:]), "\n", 2)[0])
	}
	dir := t.TempDir()
	before := tiles.Load()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	b, err := startBrowser(ctx, bin, filepath.Join(dir, "profile"))
	if err != nil {
		t.Fatal(err)
	}
	defer b.close()
	// MapLibre's idle event: every tile loaded and drawn (or an error, which fails below).
	shot, err := b.screenshot(ctx, page, `document.body.dataset.mapIdle === "true" || document.body.dataset.mapError !== undefined`)
	if err != nil {
		t.Fatal(err)
	}
	if n := tiles.Load() - before; n == 0 {
		t.Fatalf("the page requested no tiles")
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatal(err)
	}
	bounds := img.Bounds()
	rgb := func(x, y int) [3]uint32 {
		r, g, bl, _ := img.At(x, y).RGBA()
		return [3]uint32{r >> 8, g >> 8, bl >> 8}
	}
	background := [3]uint32{0xf4, 0xf3, 0xef}
	if c := rgb(bounds.Min.X+5, bounds.Max.Y-5); c != background {
		t.Errorf("corner pixel %v, want the background %v", c, background)
	}
	// The square fills the middle of the fitted map; its centre holds the point.
	for _, p := range [][2]int{{bounds.Dx() / 2, bounds.Dy() / 2}, {bounds.Dx()/2 + 60, bounds.Dy()/2 + 60}} {
		if c := rgb(p[0], p[1]); c == background {
			t.Errorf("pixel %v is the background: nothing drawn there; the page's body: %s", p, dumpBody(ctx, bin, dir, page))
		}
	}
	if t.Failed() || os.Getenv("CARTOLOCAL_PREVIEW_PNG") != "" {
		_ = os.WriteFile(filepath.Join(os.TempDir(), "cartolocal-preview.png"), shot, 0o644)
	}
}

// dumpBody is the page's <body> tag as Chromium leaves it, with the map's data-map-idle or
// data-map-error, to tell why nothing was drawn.
func dumpBody(ctx context.Context, bin, dir, page string) string {
	out, err := exec.CommandContext(ctx, bin, "--headless=new", "--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
		"--user-data-dir="+filepath.Join(dir, "profile2"), "--virtual-time-budget=20000", "--dump-dom", page).Output()
	if err != nil {
		return err.Error()
	}
	s := string(out)
	if i := strings.Index(s, "<body"); i >= 0 {
		s = s[i:]
		if j := strings.IndexByte(s, '>'); j >= 0 {
			s = s[:j+1]
		}
	}
	return s
}
