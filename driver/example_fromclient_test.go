package driver_test

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/gocarto/carto"
	"github.com/gocarto/carto/batch"
	"github.com/gocarto/carto/cartolocal/cartotest"
	cartodriver "github.com/gocarto/carto/driver"
)

// A program that already has a *carto.Client for its Batch jobs runs database/sql on the same
// client: one account, one key, one HTTP transport.
func ExampleOpenDBFromClient() {
	client, done := exampleClient() // your account: carto.NewClient("https://USER.carto.com", carto.WithAPIKey(key))
	defer done()

	ctx := context.Background()
	if _, err := batch.New(client).Run(ctx, "CREATE TABLE visits AS SELECT g AS n FROM generate_series(1, 3) g"); err != nil {
		panic(err)
	}

	db := cartodriver.OpenDBFromClient(client, cartodriver.WithTimeout(30*time.Second))
	defer db.Close() // client and its transport stay open
	var total int
	if err := db.QueryRowContext(ctx, "SELECT sum(n) FROM visits WHERE n >= $1", 2).Scan(&total); err != nil {
		panic(err)
	}
	fmt.Println(total)
	// Output: 5
}

// The connector form, for sql.OpenDB or for code that takes a driver.Connector; options add
// what the client does not hold, here a notice handler.
func ExampleNewConnectorFromClient() {
	client, done := exampleClient()
	defer done()

	var notices []string
	ctr, err := cartodriver.NewConnectorFromClient(client,
		cartodriver.WithOnNotice(func(n cartodriver.Notice) { notices = append(notices, n.Level+": "+n.Message) }))
	if err != nil {
		panic(err)
	}
	db := sql.OpenDB(ctr)
	defer db.Close()
	if _, err := db.ExecContext(context.Background(), "DO $$ BEGIN RAISE NOTICE 'hello'; END $$"); err != nil {
		panic(err)
	}
	fmt.Println(notices)

	_, err = cartodriver.NewConnectorFromClient(client, cartodriver.WithSpoolMemory(-1))
	fmt.Println(err)
	// Output:
	// [notice: hello]
	// carto driver: Config.SpoolMemory is -1; want 0 (the default) or more
}

// exampleClient makes a fresh cartolocal account for a runnable example and returns a client
// with its master key.
func exampleClient() (*carto.Client, func()) {
	tb := &exampleTB{}
	acct := cartotest.New(tb)
	return acct.Client(tb), func() {
		for i := len(tb.cleanups) - 1; i >= 0; i-- {
			tb.cleanups[i]()
		}
	}
}
