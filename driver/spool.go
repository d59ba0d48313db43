package driver

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// spool holds the rows of one answer between reading the body and yielding them: CARTO sends
// the column types after the rows, so nothing can be yielded before the body has been read to
// its end. Records live in memory, in chunks, up to limit bytes; past that, all of them move to
// a temporary file and the memory is let go, so an answer of any size costs a bounded amount
// of memory.
//
// A record is a uvarint length followed by that many bytes. Records never straddle chunks.
type spool struct {
	limit  int64
	chunks [][]byte
	used   int64 // bytes of chunk capacity held

	file *os.File
	w    *bufio.Writer
	r    *bufio.Reader
	ci   int    // chunk being read
	pos  int    // read offset in it
	buf  []byte // a record read from the file when it does not fit the reader's buffer
	n    [binary.MaxVarintLen64]byte
}

const (
	spoolChunk      = 256 << 10
	spoolFileBuffer = 64 << 10
)

// chunkPool recycles chunks between queries, so that a program running many queries does not
// allocate (and clear) fresh memory for each answer.
var chunkPool = sync.Pool{New: func() any { b := make([]byte, 0, spoolChunk); return &b }}

func newSpool(limit int64) *spool {
	return &spool{limit: limit}
}

// write appends one record.
func (s *spool) write(rec []byte) error {
	hdr := binary.PutUvarint(s.n[:], uint64(len(rec)))
	need := hdr + len(rec)
	if s.file == nil {
		if k := len(s.chunks) - 1; k >= 0 && len(s.chunks[k])+need <= cap(s.chunks[k]) {
			s.chunks[k] = append(append(s.chunks[k], s.n[:hdr]...), rec...)
			return nil
		}
		if size := int64(max(need, spoolChunk)); s.used+size <= s.limit {
			var c []byte
			if need <= spoolChunk {
				c = (*chunkPool.Get().(*[]byte))[:0]
			} else {
				c = make([]byte, 0, need)
			}
			s.used += int64(cap(c))
			s.chunks = append(s.chunks, append(append(c, s.n[:hdr]...), rec...))
			return nil
		}
		if err := s.spill(); err != nil {
			return err
		}
	}
	if _, err := s.w.Write(s.n[:hdr]); err != nil {
		return s.fileErr(err)
	}
	if _, err := s.w.Write(rec); err != nil {
		return s.fileErr(err)
	}
	return nil
}

// spill moves what is in memory to a new temporary file that takes every later record.
func (s *spool) spill() error {
	f, err := os.CreateTemp("", "carto-rows-*")
	if err != nil {
		return fmt.Errorf("carto driver: the answer is over spool_memory (%d bytes) and no temporary file can hold the rest: %w", s.limit, err)
	}
	// Unlinked at once where the system allows it (the open file stays usable), so that even a
	// crash leaves nothing behind; close removes it again for systems that do not.
	_ = os.Remove(f.Name())
	s.file = f
	s.w = bufio.NewWriterSize(f, spoolFileBuffer)
	for _, c := range s.chunks {
		if _, err := s.w.Write(c); err != nil {
			return s.fileErr(err)
		}
	}
	s.release()
	return nil
}

// release gives the chunks back to the pool.
func (s *spool) release() {
	for i, c := range s.chunks {
		if cap(c) == spoolChunk {
			c = c[:0]
			chunkPool.Put(&c)
		}
		s.chunks[i] = nil
	}
	s.chunks, s.used = nil, 0
}

func (s *spool) fileErr(err error) error {
	return fmt.Errorf("carto driver: writing the answer to a temporary file: %w", err)
}

// rewind ends writing and starts reading from the first record.
func (s *spool) rewind() error {
	if s.file == nil {
		return nil
	}
	if err := s.w.Flush(); err != nil {
		return s.fileErr(err)
	}
	s.w = nil
	if _, err := s.file.Seek(0, io.SeekStart); err != nil {
		return s.fileErr(err)
	}
	s.r = bufio.NewReaderSize(s.file, spoolFileBuffer)
	return nil
}

var errCorrupt = errors.New("carto driver: corrupt row spool")

// next returns the next record, valid until the next call, or io.EOF after the last.
func (s *spool) next() ([]byte, error) {
	if s.file == nil {
		for s.ci < len(s.chunks) && s.pos >= len(s.chunks[s.ci]) {
			s.ci, s.pos = s.ci+1, 0
		}
		if s.ci >= len(s.chunks) {
			return nil, io.EOF
		}
		c := s.chunks[s.ci]
		n, k := binary.Uvarint(c[s.pos:])
		if k <= 0 || uint64(len(c)-s.pos-k) < n {
			return nil, errCorrupt
		}
		start := s.pos + k
		s.pos = start + int(n)
		return c[start:s.pos:s.pos], nil
	}
	n, err := binary.ReadUvarint(s.r)
	if err != nil {
		if err == io.EOF {
			return nil, io.EOF
		}
		return nil, fmt.Errorf("carto driver: reading rows back from the temporary file: %w", err)
	}
	if n <= uint64(s.r.Size()) {
		// Most records fit the reader's buffer: hand out a view of it, no copy.
		b, err := s.r.Peek(int(n))
		if err != nil {
			return nil, fmt.Errorf("carto driver: reading rows back from the temporary file: %w", err)
		}
		_, _ = s.r.Discard(int(n))
		return b, nil
	}
	if uint64(cap(s.buf)) < n {
		s.buf = make([]byte, n)
	}
	s.buf = s.buf[:n]
	if _, err := io.ReadFull(s.r, s.buf); err != nil {
		return nil, fmt.Errorf("carto driver: reading rows back from the temporary file: %w", err)
	}
	return s.buf, nil
}

// onDisk reports whether the records went to a temporary file.
func (s *spool) onDisk() bool { return s.file != nil }

// close releases the memory and removes the temporary file. It may be called more than once.
func (s *spool) close() error {
	s.release()
	s.buf, s.r, s.w = nil, nil, nil
	if s.file == nil {
		return nil
	}
	name := s.file.Name()
	err := s.file.Close()
	s.file = nil
	if rmErr := os.Remove(name); rmErr != nil && !errors.Is(rmErr, os.ErrNotExist) && err == nil {
		err = rmErr
	}
	return err
}
