package batch

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"

	"github.com/jackc/pgx/v5"
)

// A query of a job must never run twice, even when cartolocal dies between the query's commit and
// the bookkeeping that records it (a separate transaction on another connection). So the query
// carries its own receipt: the runner appends
//
//	;\nSELECT cartodb._cdb_cartolocal_batch_done('<job id>', '<run token>')
//
// to the job's SQL, which runs as one simple-query message, hence one implicit transaction: the
// mark (a row of cartolocal.batch_marks, written by a SECURITY DEFINER function the job's role may
// call, and only for the token of the query running now) commits if and only if the query does. A
// server that finds a job left running by a dead process looks for the mark of its token: found,
// the query committed and is recorded done; missing, it did not, and it runs again.
//
// What stays unavoidable: SQL that commits by itself part-way (an explicit COMMIT or END, a
// procedure that commits) has its earlier part committed without the mark, and SQL that cannot
// run inside a transaction block (VACUUM, CREATE INDEX CONCURRENTLY, ...) gets no mark at all; if
// the server dies while such SQL runs, it runs again from its start at the next start, as before.

// unmarkable finds SQL that fails, or commits by itself, inside the implicit transaction the mark
// needs: statements PostgreSQL refuses in a transaction block, and transaction control (also
// inside DO bodies and procedures, which CALL may run). It reads the raw text, comments and
// strings included, so it can only err on the safe side: a false match costs the mark, never the
// query.
var unmarkable = regexp.MustCompile(`(?i)\b(vacuum|concurrently|tablespace|subscription|commit|rollback|call|` +
	`(create|drop|alter)\s+database|alter\s+system|reindex\s+(system|database)|discard\s+all|cluster(\s+verbose)?\s*(;|$))`)

// markable reports whether sql may carry the completion mark.
func markable(sql string) bool { return !unmarkable.MatchString(sql) }

// withMark appends the completion mark of run token to the job's statement. The newline ends a
// trailing -- comment of the job's SQL.
func withMark(stmt, jobID, token string) string {
	// The id is a UUID and the token hex: neither needs quoting.
	return stmt + fmt.Sprintf(";\nSELECT cartodb._cdb_cartolocal_batch_done('%s', '%s')", jobID, token)
}

// newRunToken names one run of one query: 128 random bits, so that no account can write the mark
// of another's job.
func newRunToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// committed reports whether the run named token left its mark, that is, whether the query's
// transaction committed; it forgets the mark, which has told what it had to.
func committed(ctx context.Context, tx pgx.Tx, token string) (bool, error) {
	if token == "" {
		return false, nil
	}
	tag, err := tx.Exec(ctx, `DELETE FROM cartolocal.batch_marks WHERE token = $1`, token)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() > 0, nil
}
