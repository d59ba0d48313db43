package driver

import (
	"database/sql/driver"
	"fmt"
	"io"
	"reflect"
	"runtime"

	"github.com/gocarto/carto"
	"github.com/gocarto/carto/driver/internal/column"
	"github.com/gocarto/carto/driver/internal/rowrec"
)

// rows yields the rows of an answer that was read to its end, from its spool.
type rows struct {
	sp     *spool
	fields []column.Field
	cols   []string
	colOf  map[string]int // column name -> index, when a row's keys are not in column order
	names  []string       // the records' member names by number
	colAt  []int          // the column of each member name number, -1 for none
	box    column.Boxer   // Next's, when it decodes
	pf     *prefetcher    // decodes rows ahead, for big answers (prefetch.go)
}

var (
	_ driver.Rows                           = (*rows)(nil)
	_ driver.RowsColumnTypeScanType         = (*rows)(nil)
	_ driver.RowsColumnTypeDatabaseTypeName = (*rows)(nil)
	_ driver.RowsColumnTypeNullable         = (*rows)(nil)
)

// trailerError is the error an answer's trailer reports, if any: CARTO keeps HTTP 200 once rows
// have started to stream, and puts a statement's failure after them.
func (res *response) trailerError(method, path string) error {
	if len(res.errMessages) == 0 {
		return nil
	}
	return &carto.Error{
		StatusCode: 200,
		Messages:   res.errMessages,
		Context:    res.errContext,
		Detail:     res.errDetail,
		Hint:       res.hint,
		Method:     method,
		Path:       path,
		Sent:       true,
	}
}

// newRows checks a read answer and makes its rows ready to yield. Any error here is the
// query's error: Rows never end early.
func newRows(res *response, sp *spool) (*rows, error) {
	if !res.sawRows {
		return nil, fmt.Errorf("the answer has no rows member")
	}
	r := &rows{sp: sp, fields: res.fields, names: res.names}
	r.cols = make([]string, len(res.fields))
	for i := range res.fields {
		r.cols[i] = res.fields[i].Name
	}
	r.colOf = make(map[string]int, len(res.fields))
	for i := range res.fields {
		r.colOf[res.fields[i].Name] = i
	}
	if len(res.fields) == 0 && res.rows > 0 {
		return nil, fmt.Errorf("the answer holds %d rows but describes no columns: when a query has several "+
			"statements CARTO sends the rows of all of them but describes only the last; send statements "+
			"that return rows one per Query", res.rows)
	}
	// The count tells rows of earlier statements apart: total_rows counts only the last one's.
	if res.sawTotal && res.rows != res.totalRows && !(len(res.fields) == 0 && res.rows == 0) {
		return nil, fmt.Errorf("the answer holds %d rows but its total_rows says %d: when a query has "+
			"several statements CARTO sends the rows of all of them and counts only the last; send "+
			"statements that return rows one per Query", res.rows, res.totalRows)
	}
	// When the last statement returns no rows, total_rows counts the rows streamed (CARTO's
	// rowCount || rows), so the count agrees with rows of earlier statements: their columns do
	// not. Every row object has exactly the described names (both lose duplicates, skipfields
	// and __proto__ alike), so the first one tells.
	if res.firstRec != nil {
		if err := r.checkNames(res.firstRec); err != nil {
			return nil, err
		}
	}
	r.colAt = make([]int, len(r.names))
	for i, name := range r.names {
		col, known := r.colOf[name]
		if !known {
			col = -1
		}
		r.colAt[i] = col
	}
	if err := sp.rewind(); err != nil {
		return nil, err
	}
	// On one core a decoder and the caller's loop would only take turns, for nothing.
	if res.rows >= prefetchMinRows {
		if procs := runtime.GOMAXPROCS(0); procs > 1 {
			r.pf = r.prefetch(min(prefetchDecoders, procs-1))
		}
	}
	return r, nil
}

// checkNames reports an error unless the member names of the row record rec are exactly the
// columns.
func (r *rows) checkNames(rec []byte) error {
	rd := rowrec.NewReader(rec)
	seen := make([]bool, len(r.cols))
	n := 0
	for {
		idx, _, _, ok, err := rd.Next()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		if idx >= uint64(len(r.names)) {
			return rowrec.ErrCorrupt
		}
		name := r.names[idx]
		col, known := r.colOf[name]
		if !known {
			return fmt.Errorf("the answer's first row has a column %q that its fields (those of the last "+
				"statement) do not describe: when a query has several statements CARTO sends the rows of "+
				"all of them but describes only the last; send statements that return rows one per Query", name)
		}
		if !seen[col] {
			seen[col] = true
			n++
		}
	}
	if n != len(r.cols) {
		for i, s := range seen {
			if !s {
				return fmt.Errorf("the answer's first row lacks column %q of its fields (those of the last "+
					"statement): when a query has several statements CARTO sends the rows of all of them but "+
					"describes only the last; send statements that return rows one per Query", r.cols[i])
			}
		}
	}
	return nil
}

// Columns returns the column names in the order of the answer's fields.
func (r *rows) Columns() []string { return r.cols }

// Close stops the producer, if any, and then releases the spool, removing its temporary file if
// it had one. It may be called more than once.
func (r *rows) Close() error {
	if p := r.pf; p != nil {
		r.pf = nil
		p.close()
	}
	return r.sp.close()
}

// Next fills dest with the next row.
func (r *rows) Next(dest []driver.Value) error {
	if r.pf != nil {
		return r.nextAhead(r.pf, dest)
	}
	b, err := r.sp.next()
	if err != nil {
		return err
	}
	return r.decode(b, dest, &r.box)
}

// decode fills dest with the values of the record rec, nil for columns it lacks, boxing them
// through bx. It only reads r, so several goroutines may call it with Boxers of their own.
func (r *rows) decode(rec []byte, dest []driver.Value, bx *column.Boxer) error {
	clear(dest)
	rd := rowrec.NewReader(rec)
	for {
		idx, tag, val, ok, err := rd.Next()
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		if idx >= uint64(len(r.colAt)) {
			return rowrec.ErrCorrupt
		}
		col := r.colAt[idx]
		if col < 0 {
			return fmt.Errorf("carto driver: a row has a column %q that the answer's fields do not describe", r.names[idx])
		}
		if col >= len(dest) {
			continue
		}
		v, err := column.Value(&r.fields[col], tag, val, bx)
		if err != nil {
			return fmt.Errorf("carto driver: column %q: %w", r.cols[col], err)
		}
		dest[col] = v
	}
}

// ColumnTypeScanType returns the Go type of the column's non-NULL values.
func (r *rows) ColumnTypeScanType(i int) reflect.Type { return r.fields[i].ScanType() }

// ColumnTypeDatabaseTypeName returns the PostgreSQL type name in upper case (INT4, TEXT,
// TIMESTAMPTZ, _INT4 for int4[]) or GEOMETRY, GEOGRAPHY, RASTER; "" for types CARTO reports
// only by OID.
func (r *rows) ColumnTypeDatabaseTypeName(i int) string { return r.fields[i].TypeName }

// ColumnTypeNullable reports ok=false: CARTO's answer does not say.
func (r *rows) ColumnTypeNullable(i int) (nullable, ok bool) { return false, false }

// readRows reads a whole answer, rows to a spool of at most limit bytes in memory, and returns
// its rows, or the error it holds: a *carto.Error from its trailer, or why it is not a complete,
// consistent answer.
func readRows(body io.Reader, limit int64, method, path string) (*rows, *response, error) {
	sp := newSpool(limit)
	res, err := readResponse(body, sp)
	if err == nil {
		if err = res.trailerError(method, path); err != nil {
			_ = sp.close()
			return nil, nil, err
		}
		var r *rows
		if r, err = newRows(res, sp); err == nil {
			return r, res, nil
		}
	}
	_ = sp.close()
	return nil, nil, fmt.Errorf("carto driver: %s %s: %w", method, path, err)
}
