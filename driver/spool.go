package driver

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// spool holds the rows of one answer between reading the body and yielding them: CARTO sends
// the column types after the rows, so nothing can be yielded before the body has been read to
// its end. Records live in memory up to limit bytes; past that, all of them move to a temporary
// file and the memory is let go, so an answer of any size costs a bounded amount of memory.
//
// A record is a uvarint length followed by that many bytes.
type spool struct {
	limit int64
	mem   []byte

	file *os.File
	w    *bufio.Writer
	r    *bufio.Reader
	pos  int    // read offset in mem
	buf  []byte // a record read from the file when it does not fit the reader's buffer
	read bool   // writing is over
	n    [binary.MaxVarintLen64]byte
}

const spoolFileBuffer = 64 << 10

func newSpool(limit int64) *spool {
	return &spool{limit: limit}
}

// write appends one record.
func (s *spool) write(rec []byte) error {
	hdr := binary.PutUvarint(s.n[:], uint64(len(rec)))
	if s.file == nil {
		if int64(len(s.mem)+hdr+len(rec)) <= s.limit {
			s.mem = append(s.mem, s.n[:hdr]...)
			s.mem = append(s.mem, rec...)
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
	// crash leaves nothing behind; Close removes it again for systems that do not.
	_ = os.Remove(f.Name())
	s.file = f
	s.w = bufio.NewWriterSize(f, spoolFileBuffer)
	if _, err := s.w.Write(s.mem); err != nil {
		return s.fileErr(err)
	}
	s.mem = nil
	return nil
}

func (s *spool) fileErr(err error) error {
	return fmt.Errorf("carto driver: writing the answer to a temporary file: %w", err)
}

// rewind ends writing and starts reading from the first record.
func (s *spool) rewind() error {
	s.read = true
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

// next returns the next record, valid until the next call, or io.EOF after the last.
func (s *spool) next() ([]byte, error) {
	if s.file == nil {
		if s.pos >= len(s.mem) {
			return nil, io.EOF
		}
		n, k := binary.Uvarint(s.mem[s.pos:])
		if k <= 0 || uint64(len(s.mem)-s.pos-k) < n {
			return nil, errors.New("carto driver: corrupt row spool")
		}
		start := s.pos + k
		s.pos = start + int(n)
		return s.mem[start:s.pos:s.pos], nil
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

// close releases the memory and removes the temporary file.
func (s *spool) close() error {
	s.mem, s.buf, s.r, s.w = nil, nil, nil, nil
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
