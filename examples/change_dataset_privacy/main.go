// Command change_dataset_privacy sets who may read a dataset of a CARTO account: PUBLIC and LINK
// datasets are readable by anyone with the account's public key (or none), PRIVATE ones only with
// the master key or a key granted them.
//
//	change_dataset_privacy places PUBLIC
//
// The account comes from -base-url and -api-key, or $CARTO_BASE_URL and $CARTO_API_KEY (see
// examples/README.md).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/gocarto/carto"
	"github.com/gocarto/carto/account"
	"github.com/gocarto/carto/examples/internal/cli"
)

// args are the program's options.
type args struct {
	Dataset string          // the dataset's name or id
	Privacy account.Privacy // PUBLIC, LINK or PRIVATE
}

func main() {
	acct := cli.Register(flag.CommandLine)
	acct.Parse(os.Args[1:])
	a, err := parseArgs(flag.Args())
	if err != nil {
		acct.Fail(cli.Usagef("change_dataset_privacy DATASET PUBLIC|LINK|PRIVATE: %v", err))
	}
	client, err := acct.Client()
	if err != nil {
		acct.Fail(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, client, a, os.Stdout); err != nil {
		acct.Fail(err)
	}
}

// parseArgs reads DATASET PRIVACY, the privacy in any case.
func parseArgs(list []string) (args, error) {
	if len(list) != 2 {
		return args{}, fmt.Errorf("want a dataset and a privacy, got %d arguments", len(list))
	}
	p := account.Privacy(strings.ToUpper(list[1]))
	switch p {
	case account.Public, account.Link, account.Private:
	default:
		return args{}, fmt.Errorf("privacy %q: use PUBLIC, LINK or PRIVATE", list[1])
	}
	return args{Dataset: list[0], Privacy: p}, nil
}

// run changes the dataset's privacy and says what it was and is.
func run(ctx context.Context, c *carto.Client, a args, w io.Writer) error {
	ds := account.NewDatasets(c)
	before, err := ds.Get(ctx, a.Dataset)
	if err != nil {
		return err
	}
	after, err := ds.SetPrivacy(ctx, before.ID, a.Privacy)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "Dataset %s: privacy %s -> %s\n", after.Name, before.Privacy, after.Privacy)
	return err
}
