package sqlapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/go-json-experiment/json"
	"github.com/gocarto/carto"
)

// CopyResult is what a COPY moved.
type CopyResult struct {
	// Rows is the rows copied as the server counted them (CopyFrom; -1 for CopyTo, whose answer
	// carries no count).
	Rows int64
	// Time is the server's time for the COPY, in seconds (CopyFrom).
	Time float64
	// Bytes is the data read from the reader (CopyFrom) or written to the writer (CopyTo);
	// WireBytes is what went over the network for it.
	Bytes, WireBytes int64
}

// progressStep is how much data passes between two progress reports.
const progressStep = 1 << 20

// CopyFrom runs copySQL, a COPY ... FROM STDIN, with r's data: it streams r to CARTO's
// api/v2/sql/copyfrom, gzip-compressed unless WithoutGzip, holding only a small buffer whatever
// the size. The COPY is one statement: if it fails, or r fails, or the connection is cut, nothing
// is copied and CopyFrom returns an error, never a partial count. An answer of 0 rows is CARTO's
// 400 "No rows copied".
func (c *Client) CopyFrom(ctx context.Context, copySQL string, r io.Reader, opts ...Option) (CopyResult, error) {
	s := collect(opts)
	src := &copySource{src: r, progress: s.progress}
	if !s.noGzip {
		if err := src.compress(s.gzipLevel); err != nil {
			return CopyResult{Rows: -1}, fmt.Errorf("sqlapi: copy from: %w", err)
		}
	}
	req := &carto.Request{
		Method: http.MethodPost,
		Path:   copyFromPath,
		// CARTO reads q from the query string only: the body is the data.
		Query:       url.Values{"q": {copySQL}},
		Stream:      src,
		ContentType: "application/octet-stream",
	}
	if !s.noGzip {
		req.Header = http.Header{"Content-Encoding": {"gzip"}}
	}
	res := CopyResult{Rows: -1}
	resp, err := c.c.Do(ctx, req)
	res.Bytes, res.WireBytes = src.n, src.wire
	if err != nil {
		if src.err != nil {
			// The reader failed: the request was aborted, the server rolled the COPY back.
			return res, fmt.Errorf("sqlapi: copy from: reading the data: %w", src.err)
		}
		return res, fmt.Errorf("sqlapi: copy from: %w", err)
	}
	defer resp.Body.Close()
	var answer struct {
		Time      float64 `json:"time"`
		TotalRows *int64  `json:"total_rows"`
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err == nil {
		err = json.Unmarshal(raw, &answer)
		if err == nil && answer.TotalRows == nil {
			err = errors.New("the answer has no total_rows")
		}
	}
	if err != nil {
		return res, fmt.Errorf("sqlapi: copy from: %w", readCause(ctx, readFailure(&Response{Method: http.MethodPost, Path: c.c.URL(copyFromPath).Path, NoAPIKey: !c.c.HasAPIKey()}, err)))
	}
	res.Rows, res.Time = *answer.TotalRows, answer.Time
	if s.progress != nil {
		s.progress(Progress{Bytes: res.Bytes, WireBytes: res.WireBytes, Rows: res.Rows, Done: true})
	}
	return res, nil
}

// CopyTo runs copySQL, a COPY ... TO STDOUT, and writes its output to w as it arrives, holding only
// a small buffer whatever the size. The output is COPY's own: text, csv (with its header if asked)
// or binary, as the statement says.
//
// CARTO appends an error that happens once the output began (a statement timeout, a failing
// function) to the data and ends the answer normally. COPY's output always ends with a newline
// (text, csv) or its trailer (binary), so an answer that ends otherwise is an error: CARTO's
// appended error, as a *carto.Error with status 200 (its text is not written to w), or a cut
// connection.
func (c *Client) CopyTo(ctx context.Context, copySQL string, w io.Writer, opts ...Option) (CopyResult, error) {
	s := collect(opts)
	res := CopyResult{Rows: -1}
	// POST with q in a form body: a long COPY statement does not have to fit in a URL.
	body := append([]byte("q="), escape(copySQL)...)
	resp, err := c.c.Do(ctx, &carto.Request{
		Method:      http.MethodPost,
		Path:        copyToPath,
		Body:        body,
		ContentType: "application/x-www-form-urlencoded",
		Header:      http.Header{"Accept": {"*/*"}},
	})
	if err != nil {
		return res, fmt.Errorf("sqlapi: copy to: %w", err)
	}
	defer resp.Body.Close()
	r := c.response(resp, copyToPath)
	cw := &countWriter{w: w}
	tw := &copyTail{w: cw, progress: s.progress}
	_, err = io.Copy(tw, r)
	if err == nil {
		err = tw.finish(r)
	} else if !cw.failed {
		err = readFailure(r, err)
	}
	res.Bytes, res.WireBytes = cw.n, tw.in
	if err != nil {
		return res, fmt.Errorf("sqlapi: copy to: %w", readCause(ctx, err))
	}
	if s.progress != nil {
		s.progress(Progress{Bytes: res.Bytes, WireBytes: res.WireBytes, Rows: -1, Done: true})
	}
	return res, nil
}
