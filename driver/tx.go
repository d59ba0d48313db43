package driver

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
)

// tx queues the statements of a transaction and sends them at Commit as one request,
// BEGIN …; s1; s2; …; COMMIT;, which PostgreSQL runs as one transaction: all or nothing.
// Nothing is sent before Commit, so Rollback only forgets the queue.
type tx struct {
	c     *conn
	ctx   context.Context
	begin string
	stmts []string
}

var _ driver.Tx = (*tx)(nil)

var (
	errTxDone = errors.New("carto driver: the transaction has already been committed or rolled back")
	// errDeferred is what a queued statement's result says; its effect is known only at Commit.
	errDeferred = errors.New("carto driver: rows affected is not known inside a transaction: its statements " +
		"are queued and sent together at Commit; run the statement outside the Tx to count rows, or " +
		"check the effect after Commit")
)

// BeginTx starts queueing a transaction. Isolation levels are those of PostgreSQL; ReadOnly
// adds READ ONLY. The context bounds the Commit request.
func (c *conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if c.tx != nil {
		return nil, errors.New("carto driver: a transaction is already open on this connection")
	}
	var b strings.Builder
	b.WriteString("BEGIN")
	switch level := sql.IsolationLevel(opts.Isolation); level {
	case sql.LevelDefault:
	case sql.LevelReadUncommitted:
		b.WriteString(" ISOLATION LEVEL READ UNCOMMITTED")
	case sql.LevelReadCommitted:
		b.WriteString(" ISOLATION LEVEL READ COMMITTED")
	case sql.LevelRepeatableRead, sql.LevelSnapshot:
		// PostgreSQL's REPEATABLE READ is snapshot isolation.
		b.WriteString(" ISOLATION LEVEL REPEATABLE READ")
	case sql.LevelSerializable, sql.LevelLinearizable:
		b.WriteString(" ISOLATION LEVEL SERIALIZABLE")
	default:
		return nil, fmt.Errorf("carto driver: isolation level %v is not one PostgreSQL has", level)
	}
	if opts.ReadOnly {
		b.WriteString(" READ ONLY")
	}
	c.tx = &tx{c: c, ctx: ctx, begin: b.String()}
	return c.tx, nil
}

// queue adds a statement to the transaction.
func (t *tx) queue(q string) (driver.Result, error) {
	if trimmed := strings.TrimSpace(q); trimmed == "" || strings.Trim(trimmed, ";") == "" {
		return txResult{}, nil
	}
	t.stmts = append(t.stmts, q)
	return txResult{}, nil
}

// Commit sends the queued statements, wrapped in BEGIN and COMMIT, as one request. A
// transaction with no statements sends nothing.
func (t *tx) Commit() error {
	if t.c.tx != t {
		return errTxDone
	}
	t.c.tx = nil
	if len(t.stmts) == 0 {
		return nil
	}
	// Each statement goes on its own lines, the semicolon on the next one, so that a statement
	// ending in a -- comment cannot swallow it.
	n := len(t.begin) + 16
	for _, s := range t.stmts {
		n += len(s) + 3
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString(t.begin)
	b.WriteString(";\n")
	for _, s := range t.stmts {
		b.WriteString(s)
		b.WriteString("\n;\n")
	}
	b.WriteString("COMMIT;")
	t.stmts = nil
	_, err := t.c.ctr.exec(t.ctx, b.String())
	return err
}

// Rollback forgets the queued statements; nothing of them was sent.
func (t *tx) Rollback() error {
	if t.c.tx != t {
		return errTxDone
	}
	t.c.tx = nil
	t.stmts = nil
	return nil
}

// txResult is the result of a statement queued in a transaction.
type txResult struct{}

func (txResult) LastInsertId() (int64, error) { return 0, errLastInsertID }
func (txResult) RowsAffected() (int64, error) { return 0, errDeferred }
