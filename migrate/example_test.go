package migrate_test

import (
	"errors"
	"fmt"
	"log"
	"os"
	"os/signal"

	gomigrate "github.com/golang-migrate/migrate/v4"
	_ "github.com/golang-migrate/migrate/v4/source/file"

	cmigrate "github.com/gocarto/carto/migrate"
)

// Migrations through golang-migrate, with the job of each migration reported as it ends.
func Example() {
	d, err := cmigrate.Open(os.Getenv("CARTO_DATABASE_URL")) // carto://USER:MASTER_KEY@HOST/...
	if err != nil {
		log.Fatal(err)
	}
	d.OnProgress(func(ev cmigrate.Event) {
		if ev.Stats != nil {
			fmt.Printf("migration %d: Batch job %s, %s\n", ev.Version, ev.Stats.JobID, ev.Stats.Total)
		}
	})
	m, err := gomigrate.NewWithDatabaseInstance("file://migrations", "carto", d)
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()

	// Ctrl-C: stop after the running migration; again: cancel its job, leaving the version dirty.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt)
	go func() {
		<-sigs
		m.GracefulStop <- true
		<-sigs
		d.Interrupt()
	}()

	err = m.Up()
	var me *cmigrate.MigrationError
	switch {
	case errors.Is(err, gomigrate.ErrNoChange):
	case errors.As(err, &me):
		log.Fatalf("%v\n(statement %d, line %d; version %d is dirty)", me, me.StatementIndex, me.Line, me.Target)
	case err != nil:
		log.Fatal(err)
	}
}
