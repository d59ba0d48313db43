package driver

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gocarto/carto"
	"github.com/gocarto/carto/cartolocal/cartotest"
)

// TestLateErrorText: a permission error raised after the answer began (query_to_xml checks its
// query at the third row) reads without a "200:" status, is IsPermissionDenied, and says that no
// API key was used when none was, for Query and Exec alike.
func TestLateErrorText(t *testing.T) {
	acct := cartotest.New(t)
	acct.Exec(t, `CREATE TABLE secret (a int)`)
	const q = `SELECT g, CASE WHEN g > 2 THEN query_to_xml('SELECT * FROM secret', true, false, '')::text END
		FROM generate_series(1, 5) g`
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, keyless := range []bool{true, false} {
		client := acct.PublicClient(t)
		if !keyless {
			client = acct.Client(t, carto.WithAPIKey(acct.PublicKey))
		}
		db := OpenDBFromClient(client)
		_, qerr := db.QueryContext(ctx, q)
		_, eerr := db.ExecContext(ctx, q)
		db.Close()
		for _, err := range []error{qerr, eerr} {
			var ce *carto.Error
			if !errors.As(err, &ce) || ce.StatusCode != 200 || ce.Message() != "permission denied for table secret" {
				t.Fatalf("keyless %v: %v", keyless, err)
			}
			text := err.Error()
			if strings.Contains(text, "200") || strings.Contains(text, "no API key was used") != keyless || !carto.IsPermissionDenied(err) {
				t.Errorf("keyless %v: %q", keyless, text)
			}
		}
	}
}
