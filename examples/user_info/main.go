// Command user_info prints a CARTO user's attributes and the account's data-services quotas, as
// carto-python's user_info.py does. With -org (or $CARTO_ORG) the user is a member of that
// organization, read with its admin's key; without, the user is the account's own.
//
//	user_info -org acme -username bob
//
// The account comes from -base-url and -api-key, or $CARTO_BASE_URL and $CARTO_API_KEY (see
// examples/README.md); for an organization's member, the admin's account.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"text/tabwriter"

	"github.com/gocarto/carto"
	"github.com/gocarto/carto/account"
	"github.com/gocarto/carto/examples/internal/cli"
)

// args are the program's options.
type args struct {
	Org      string // the organization; empty for a user without one
	Username string // the user to show
}

func main() {
	var a args
	acct := cli.Register(flag.CommandLine)
	flag.StringVar(&a.Org, "org", "", "the organization the user belongs to (default $CARTO_ORG)")
	flag.StringVar(&a.Username, "username", "", "the user to show (required)")
	acct.Parse(os.Args[1:])
	if a.Org == "" {
		a.Org = os.Getenv("CARTO_ORG")
	}
	if a.Username == "" || flag.NArg() > 0 {
		acct.Fail(cli.Usagef("user_info [-org ORG] -username USER"))
	}
	client, err := acct.Client()
	if err != nil {
		acct.Fail(err)
	}
	db, err := acct.OpenDB()
	if err != nil {
		acct.Fail(err)
	}
	defer db.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, client, db, a, os.Stdout); err != nil {
		acct.Fail(err)
	}
}

// quotaSQL is the query of user_info.py.
const quotaSQL = `SELECT service::text AS service, used_quota::float8 AS used_quota, coalesce(provider, '') AS provider,
       soft_limit, monthly_quota::float8 AS monthly_quota
  FROM cdb_dataservices_client.cdb_service_quota_info()`

func run(ctx context.Context, c *carto.Client, db *sql.DB, a args, w io.Writer) error {
	u, err := account.NewUsers(c, a.Org).Get(ctx, a.Username)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, kv := range [][2]string{
		{"username", u.Username}, {"email", u.Email}, {"base_url", u.BaseURL},
		{"org_user", strconv.FormatBool(u.OrgUser)}, {"org_admin", strconv.FormatBool(u.OrgAdmin)},
		{"quota_in_bytes", strconv.FormatInt(u.QuotaInBytes, 10)}, {"db_size_in_bytes", strconv.FormatInt(u.DBSizeInBytes, 10)},
		{"table_count", strconv.Itoa(u.TableCount)},
		{"public_visualization_count", strconv.Itoa(u.PublicVisualizationCount)},
		{"all_visualization_count", strconv.Itoa(u.AllVisualizationCount)},
		{"soft_geocoding_limit", strconv.FormatBool(u.SoftGeocodingLimit)},
	} {
		fmt.Fprintf(tw, "%s\t%s\n", kv[0], kv[1])
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	rows, err := db.QueryContext(ctx, quotaSQL)
	if err != nil {
		return err
	}
	defer rows.Close()
	fmt.Fprintln(w, "\nData services")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tUSED\tPROVIDER\tSOFT LIMIT\tMONTHLY QUOTA")
	for rows.Next() {
		var (
			service, provider string
			used, monthly     float64
			soft              bool
		)
		if err := rows.Scan(&service, &used, &provider, &soft, &monthly); err != nil {
			return err
		}
		fmt.Fprintf(tw, "%s\t%g\t%s\t%t\t%g\n", service, used, provider, soft, monthly)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return tw.Flush()
}
