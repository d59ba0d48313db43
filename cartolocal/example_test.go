package cartolocal_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"

	"github.com/gocarto/carto/cartolocal"
)

// Example starts a server on a private PostgreSQL cluster with one account, serves its HTTP API
// on a free port, and runs SQL as the account's owner role directly.
func Example() {
	ctx := context.Background()
	srv, err := cartolocal.New(ctx, cartolocal.Config{
		Users: []cartolocal.UserConfig{{Name: "demo", MasterKey: "demo-master-key"}},
		Logf:  func(string, ...any) {}, // quiet
	})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	hs := &http.Server{Handler: srv}
	go hs.Serve(ln)
	defer hs.Shutdown(ctx)

	resp, err := http.Get("http://" + ln.Addr().String() + "/user/demo/api/v1/version")
	if err != nil {
		log.Fatal(err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	resp.Body.Close()
	fmt.Println(resp.Status, string(body))

	demo, _ := srv.User("demo")
	conn, err := demo.Acquire(ctx, true)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Release()
	var who, point string
	err = conn.QueryRow(ctx, "SELECT current_user, ST_AsText(CDB_LatLng(40.4, -3.7))").Scan(&who, &point)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(who, point)
	// Output:
	// 200 OK {"cartodb_sql_api":"6.0.0"}
	// cartodb_user_demo POINT(-3.7 40.4)
}
