package account

import (
	"context"

	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"

	"github.com/go-json-experiment/json"

	"github.com/gocarto/carto"
)

// maxBody bounds a JSON answer of these APIs (a page of visualizations is some kilobytes each).
const maxBody = 64 << 20

// do sends one request and decodes its JSON answer into out (when not nil).
func do(ctx context.Context, c *carto.Client, method, path string, query url.Values, body any, out any) error {
	req := &carto.Request{Method: method, Path: path, Query: query, Idempotent: method == http.MethodGet}
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("account: %s %s: %w", method, path, err)
		}
		req.Body, req.ContentType = b, "application/json"
	}
	resp, err := c.Do(ctx, req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
		return nil
	}
	if err := json.UnmarshalRead(io.LimitReader(resp.Body, maxBody), out); err != nil {
		return &carto.Error{StatusCode: resp.StatusCode, Method: method, Path: resp.Request.URL.Path, Sent: true,
			Messages: []string{"unexpected answer: " + err.Error()}, Err: err}
	}
	return nil
}

// pages iterates over every item of a paged list: fetch returns one page's items and the total
// the server counts; paging stops once that many were seen or a page comes back empty.
func pages[T any](ctx context.Context, fetch func(ctx context.Context, page int) ([]T, int, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		seen := 0
		for page := 1; ; page++ {
			items, total, err := fetch(ctx, page)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, it := range items {
				if !yield(it, nil) {
					return
				}
			}
			seen += len(items)
			if len(items) == 0 || seen >= total {
				return
			}
		}
	}
}

// escape makes an id or name one path segment.
func escape(s string) string { return url.PathEscape(s) }
