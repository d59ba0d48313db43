package cartolocal_test

import (
	"context"
	"testing"
	"time"

	"github.com/gocarto/carto/cartolocal"
	"github.com/gocarto/carto/cartolocal/cartotest"
)

// TestUserErrorsSayItOnce: an account's error names the account once and says "cartolocal" once
// (New said `cartolocal: user "9bad": cartolocal: user name "9bad": ...`), and New refuses a bad
// name before it starts anything.
func TestUserErrorsSayItOnce(t *testing.T) {
	acct := cartotest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const badName = `cartolocal: user name "9bad": use lower-case letters, digits, '-' and '_', starting with a letter`
	srv, err := cartolocal.New(ctx, cartolocal.Config{PGURL: acct.PGURL, Users: []cartolocal.UserConfig{{Name: "9bad"}}})
	if err == nil {
		srv.Close()
		t.Fatal("New accepted the user name 9bad")
	}
	if err.Error() != badName {
		t.Errorf("New:\n got %s\nwant %s", err, badName)
	}
	for _, c := range []struct {
		cfg  cartolocal.UserConfig
		want string
	}{
		{cartolocal.UserConfig{Name: "9bad"}, badName},
		{cartolocal.UserConfig{Name: "postgres"}, `cartolocal: user name "postgres" is reserved`},
		{cartolocal.UserConfig{Name: "twin", MasterKey: "k", PublicKey: "k"}, `cartolocal: user "twin": the master and public keys must differ`},
	} {
		if _, err := acct.Server.AddUser(ctx, c.cfg); err == nil || err.Error() != c.want {
			t.Errorf("AddUser(%q):\n got %v\nwant %s", c.cfg.Name, err, c.want)
		}
	}
}
