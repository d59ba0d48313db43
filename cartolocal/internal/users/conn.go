package users

import (
	"context"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// noticeDataKey is where a request's notice collector sits in the connection's CustomData.
const noticeDataKey = "cartolocal.notices"

// dispatchNotice is the pgconn OnNotice handler the account pools are built with: it hands a
// notice to the request that runs on the connection, if one collects them.
func dispatchNotice(c *pgconn.PgConn, n *pgconn.Notice) {
	if f, ok := c.CustomData()[noticeDataKey].(func(*pgconn.Notice)); ok {
		f(n)
	}
}

// CollectNotices hands every notice (RAISE NOTICE, WARNING, INFO) that arrives on pgc, a
// connection of an account's pool, to f until stop is called. The SQL API answers them per request.
func CollectNotices(pgc *pgconn.PgConn, f func(*pgconn.Notice)) (stop func()) {
	pgc.CustomData()[noticeDataKey] = f
	return func() { delete(pgc.CustomData(), noticeDataKey) }
}

// CopyFailMessage is what node-postgres, hence CARTO, answers a COPY ... FROM STDIN with when the
// query has no stream to send: PostgreSQL reports "COPY from stdin failed: No source stream defined".
const CopyFailMessage = "No source stream defined"

// FailCopyIn queues a CopyFail right behind a query just sent with pgconn's Exec, which does not
// answer a CopyInResponse, so a COPY ... FROM STDIN in the query would wait for data forever (a
// backend reading copy data does not even take a cancel request); with the CopyFail already there
// it fails at once, as on CARTO. Outside COPY the server ignores a CopyFail (the protocol's rule for
// a frontend still sending copy messages after a failed COPY), so it changes nothing for other
// statements. A write error is pgconn's to report: the connection is broken and the query's
// results say so.
//
// Only a query whose text has the word COPY can start a COPY FROM STDIN (PL/pgSQL refuses one, and
// COPY cannot be prepared), so for any other text nothing is sent: that saves a write and a wake-up
// of the backend on every request.
func FailCopyIn(pgc *pgconn.PgConn, sql string) {
	if pgc.IsClosed() || !mentionsCopy(sql) {
		return
	}
	f := pgc.Frontend()
	f.Send(&pgproto3.CopyFail{Message: CopyFailMessage})
	_ = f.Flush()
}

// mentionsCopy reports whether s holds "copy" in any case.
func mentionsCopy(s string) bool {
	for i := 0; i+4 <= len(s); i++ {
		if s[i]|0x20 == 'c' && s[i+1]|0x20 == 'o' && s[i+2]|0x20 == 'p' && s[i+3]|0x20 == 'y' {
			return true
		}
	}
	return false
}

// resetDataKey marks, in a connection's CustomData, a reset queued by QueueReset whose answer is
// still to be read.
const resetDataKey = "cartolocal.reset"

// resetQuery is the session reset of every released connection (see resetSession).
const resetQuery = "DISCARD ALL"

// QueueReset sends, right behind a query just sent with pgconn's Exec, what must follow it: the
// CopyFail of FailCopyIn when the query mentions COPY, and the session reset (DISCARD ALL) that
// the pool would otherwise run as a round trip of its own when the connection is released. Both
// go in one write; the server runs the reset as soon as the query ends, without waiting for
// another message, and its answer waits in the connection until the release reads it (off the
// request's path). Until then the connection must not be used for anything but reading the
// query's results: the caller releases it once they are read.
//
// A reset that fails (a statement the client's cancel request caught, a transaction the query
// left open, a broken connection) closes the connection at its release instead of reusing it, as
// resetSession does.
func QueueReset(pgc *pgconn.PgConn, sql string) {
	if pgc.IsClosed() {
		return
	}
	f := pgc.Frontend()
	if mentionsCopy(sql) {
		f.Send(&pgproto3.CopyFail{Message: CopyFailMessage})
	}
	f.Send(&pgproto3.Query{String: resetQuery})
	if err := f.Flush(); err != nil {
		// pgconn reports the broken connection with the query's results; the release then drops
		// the connection. It must not look for a reset answer that may never come.
		return
	}
	pgc.CustomData()[resetDataKey] = true
}

// finishQueuedReset reads the answer of a reset QueueReset sent, if there is one: handled reports
// whether there was, ok whether the connection is now reset and reusable. A connection whose reset
// answer cannot be read to its end is closed: unread messages would be taken for the next query's.
func finishQueuedReset(ctx context.Context, pgc *pgconn.PgConn) (handled, ok bool) {
	data := pgc.CustomData()
	if data[resetDataKey] != true {
		return false, false
	}
	delete(data, resetDataKey)
	var failed error
	for {
		msg, err := pgc.ReceiveMessage(ctx)
		if err != nil {
			_ = pgc.Close(ctx)
			return true, false
		}
		switch m := msg.(type) {
		case *pgproto3.ErrorResponse:
			failed = pgconn.ErrorResponseToPgError(m)
		case *pgproto3.ReadyForQuery:
			// The reset ran outside any transaction and succeeded: the session is as new.
			return true, failed == nil && m.TxStatus == 'I'
		}
	}
}
