package sqlapi

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"

	"github.com/go-json-experiment/json/jsontext"
)

// copySource is CopyFrom's request body: the caller's reader, counted, and compressed on the fly
// when gzip is on. It compresses inside Read, so no goroutine runs beside the request and memory
// is one input buffer plus what the compressor has pending.
type copySource struct {
	src      io.Reader
	progress func(Progress)
	n, wire  int64 // data read from src; bytes handed to the request
	next     int64 // n at which progress is next reported
	err      error // src's failure, other than io.EOF

	zw   *gzip.Writer // nil without gzip
	out  bytes.Buffer // compressed bytes not yet handed out
	in   []byte
	done bool
}

func (s *copySource) compress(level int) error {
	zw, err := gzip.NewWriterLevel(&s.out, level)
	if err != nil {
		return err
	}
	s.zw = zw
	s.in = make([]byte, 32<<10)
	return nil
}

func (s *copySource) Read(p []byte) (int, error) {
	if s.zw == nil {
		n, err := s.src.Read(p)
		s.count(n, n)
		if err != nil && err != io.EOF {
			s.err = err
		}
		return n, err
	}
	for s.out.Len() == 0 {
		if s.done {
			return 0, io.EOF
		}
		if s.err != nil {
			return 0, s.err
		}
		n, err := s.src.Read(s.in)
		if n > 0 {
			s.count(n, 0)
			if _, werr := s.zw.Write(s.in[:n]); werr != nil {
				s.err = werr
				return 0, werr
			}
		}
		switch {
		case err == io.EOF:
			if cerr := s.zw.Close(); cerr != nil {
				s.err = cerr
				return 0, cerr
			}
			s.done = true
		case err != nil:
			s.err = err
		}
	}
	n, _ := s.out.Read(p)
	s.count(0, n)
	return n, nil
}

func (s *copySource) count(data, wire int) {
	s.n += int64(data)
	s.wire += int64(wire)
	if s.progress != nil && s.n >= s.next {
		s.next = s.n + progressStep
		s.progress(Progress{Bytes: s.n, WireBytes: s.wire, Rows: -1})
	}
}

// pgcopySignature begins every binary COPY output.
var pgcopySignature = []byte("PGCOPY\n\xff\r\n\x00")

// maxHeld bounds what copyTail holds back: past it, all but the last keepHeld bytes go out.
// CARTO's appended error is one short JSON object, far below keepHeld.
const (
	maxHeld  = 64 << 10
	keepHeld = 16 << 10
)

// copyTail passes CopyTo's data to the writer, holding back what follows the last newline (and,
// for binary output, the last few KiB) until it knows whether the answer ended as COPY output
// ends or with CARTO's appended error.
type copyTail struct {
	w        *countWriter
	progress func(Progress)
	held     []byte
	in       int64 // bytes received
	next     int64
	head     []byte // the first bytes, to tell binary output by its signature
	binary   bool
	sniffed  bool
}

func (t *copyTail) Write(p []byte) (int, error) {
	t.in += int64(len(p))
	if !t.sniffed {
		t.head = append(t.head, p[:min(len(p), len(pgcopySignature)-len(t.head))]...)
		switch {
		case len(t.head) == len(pgcopySignature):
			t.binary, t.sniffed = bytes.Equal(t.head, pgcopySignature), true
		case !bytes.HasPrefix(pgcopySignature, t.head):
			t.sniffed = true
		}
	}
	// Until the first bytes tell text from binary, everything is held.
	if i := bytes.LastIndexByte(p, '\n'); i >= 0 && t.sniffed && !t.binary {
		if err := t.out(t.held); err != nil {
			return 0, err
		}
		t.held = t.held[:0]
		if err := t.out(p[:i+1]); err != nil {
			return 0, err
		}
		t.held = append(t.held, p[i+1:]...)
	} else {
		t.held = append(t.held, p...)
	}
	if len(t.held) > maxHeld {
		cut := len(t.held) - keepHeld
		if err := t.out(t.held[:cut]); err != nil {
			return 0, err
		}
		t.held = t.held[:copy(t.held, t.held[cut:])]
	}
	if t.progress != nil && t.w.n >= t.next {
		t.next = t.w.n + progressStep
		t.progress(Progress{Bytes: t.w.n, WireBytes: t.in, Rows: -1})
	}
	return len(p), nil
}

func (t *copyTail) out(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	_, err := t.w.Write(b)
	return err
}

// errCopyCut is a COPY output that stops where COPY's output cannot end.
var errCopyCut = errors.New("the COPY output ended in the middle of a row (connection cut?)")

// finish decides, at the end of the body, whether the output is complete.
func (t *copyTail) finish(r *Response) error {
	complete := len(t.held) == 0
	if t.binary {
		complete = bytes.HasSuffix(t.held, []byte{0xff, 0xff})
	}
	if complete {
		return t.out(t.held)
	}
	if i := bytes.LastIndex(t.held, []byte(`{"error":`)); i >= 0 {
		d := jsontext.NewDecoder(bytes.NewReader(t.held[i:]), jsontext.AllowDuplicateNames(true))
		cerr, err := readMembers(d)
		if err == nil && cerr != nil {
			if _, end := d.ReadToken(); end == io.EOF {
				if err := t.out(t.held[:i]); err != nil {
					return err
				}
				return lateError(cerr, r)
			}
		}
	}
	if err := t.out(t.held); err != nil {
		return err
	}
	return readFailure(r, errCopyCut)
}
