package driver_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gocarto/carto/cartolocal/cartotest"
	cartodriver "github.com/gocarto/carto/driver"
)

func ExampleParseDSN() {
	cfg, err := cartodriver.ParseDSN("carto://bob:SECRET@acme.carto.com/user/bob?timeout=30s")
	if err != nil {
		panic(err)
	}
	fmt.Println(cfg.BaseURL, cfg.User, cfg.Timeout)
	fmt.Println(cfg) // String() hides the key

	// The user of a personal account is the host's first label.
	cfg, _ = cartodriver.ParseDSN("https://alice.carto.com/?api_key=SECRET")
	fmt.Println(cfg.BaseURL, cfg.User)

	// cartolocal, or an on-premises CARTO, over plain HTTP.
	cfg, _ = cartodriver.ParseDSN("carto://demo:SECRET@127.0.0.1:5480/user/demo?sslmode=disable&spool_memory=32MiB")
	fmt.Println(cfg.BaseURL, cfg.SpoolMemory)

	_, err = cartodriver.ParseDSN("carto://127.0.0.1:5480?api_key=SECRET")
	fmt.Println(err != nil)
	// Output:
	// https://acme.carto.com/user/bob/ bob 30s
	// carto://bob:xxxxx@acme.carto.com/user/bob?timeout=30s
	// https://alice.carto.com/ alice
	// http://127.0.0.1:5480/user/demo/ 33554432
	// true
}

func ExampleOpenDB() {
	dsn, done := exampleAccount() // your account: "carto://USER:API_KEY@USER.carto.com"
	defer done()

	cfg, err := cartodriver.ParseDSN(dsn)
	if err != nil {
		panic(err)
	}
	cfg.Timeout = 30 * time.Second
	db := cartodriver.OpenDB(cfg)
	defer db.Close()

	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `CREATE TABLE cities (name text, the_geom geometry(Point, 4326))`); err != nil {
		panic(err)
	}
	res, err := db.ExecContext(ctx, `INSERT INTO cities VALUES ($1, ST_SetSRID(ST_MakePoint($2, $3), 4326))`,
		"Madrid", -3.7038, 40.4168)
	if err != nil {
		panic(err)
	}
	n, _ := res.RowsAffected()
	fmt.Println("inserted", n)

	var name, wkt string
	err = db.QueryRowContext(ctx, `SELECT name, ST_AsText(the_geom) AS wkt FROM cities WHERE name = $1`, "Madrid").
		Scan(&name, &wkt)
	if err != nil {
		panic(err)
	}
	fmt.Println(name, wkt)
	// Output:
	// inserted 1
	// Madrid POINT(-3.7038 40.4168)
}

// exampleAccount makes a fresh cartolocal account for a runnable example, which has no
// *testing.T to give cartotest.New; a real program has a CARTO account's DSN instead.
func exampleAccount() (dsn string, done func()) {
	tb := &exampleTB{}
	acct := cartotest.New(tb)
	return acct.DSN(), func() {
		for i := len(tb.cleanups) - 1; i >= 0; i-- {
			tb.cleanups[i]()
		}
	}
}

// exampleTB is the part of testing.TB that cartotest.New uses.
type exampleTB struct {
	testing.TB
	cleanups []func()
}

func (*exampleTB) Helper()                        {}
func (*exampleTB) Fatal(args ...any)              { panic(fmt.Sprint(args...)) }
func (*exampleTB) Fatalf(format string, a ...any) { panic(fmt.Sprintf(format, a...)) }
func (tb *exampleTB) Cleanup(f func())            { tb.cleanups = append(tb.cleanups, f) }
