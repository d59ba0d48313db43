package imports

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"

	"github.com/gocarto/carto"
)

// Upload imports the file name read from r. The file streams to CARTO as the multipart part
// "file" (as curl -F file=@name and carto-python send it) and is never held in memory;
// opts.Progress, if set, hears the bytes read from r so far. The table is named after name.
// Upload does not close r.
func (c *Client) Upload(ctx context.Context, name string, r io.Reader, opts *Options) (*Import, error) {
	if name == "" {
		return nil, errors.New("imports: Upload: a file name is needed (its extension says the format)")
	}
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	var progress func(int64)
	if opts != nil {
		progress = opts.Progress
	}
	// The writer stops when the request stops reading (pr is closed below).
	done := make(chan struct{})
	go func() {
		defer close(done)
		part, err := mw.CreateFormFile("file", name)
		if err == nil {
			_, err = io.Copy(part, &counter{r: r, f: progress})
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	resp, err := c.c.Do(ctx, &carto.Request{
		Method: http.MethodPost, Path: importsPath, Query: opts.query(),
		Stream: pr, ContentType: mw.FormDataContentType(),
	})
	pr.CloseWithError(errors.New("imports: the upload ended"))
	<-done
	if err != nil {
		return nil, fmt.Errorf("imports: uploading %s: %w", name, err)
	}
	return created(resp)
}

// counter reports the bytes read through it.
type counter struct {
	r io.Reader
	n int64
	f func(int64)
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.n += int64(n)
		if c.f != nil {
			c.f(c.n)
		}
	}
	return n, err
}
