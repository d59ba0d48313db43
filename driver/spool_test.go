package driver

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"testing"
)

func TestSpoolRecords(t *testing.T) {
	sizes := []int{0, 1, 127, 128, 300 << 10, 5, 70 << 10, spoolChunk - 3, spoolChunk, 1, 2 << 20, 9}
	for _, limit := range []int64{1 << 30, 1 << 20, 1} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			sp := newSpool(limit)
			var want [][]byte
			for i, n := range sizes {
				rec := bytes.Repeat([]byte{byte('a' + i)}, n)
				want = append(want, rec)
				if err := sp.write(rec); err != nil {
					t.Fatal(err)
				}
			}
			if onDisk := sp.onDisk(); onDisk != (limit < 1<<30) {
				t.Errorf("limit %d: on disk = %v", limit, onDisk)
			}
			var name string
			if sp.file != nil {
				name = sp.file.Name()
			}
			if err := sp.rewind(); err != nil {
				t.Fatal(err)
			}
			for i, w := range want {
				got, err := sp.next()
				if err != nil {
					t.Fatalf("record %d: %v", i, err)
				}
				if !bytes.Equal(got, w) {
					t.Fatalf("record %d: %d bytes, want %d", i, len(got), len(w))
				}
			}
			if _, err := sp.next(); err != io.EOF {
				t.Errorf("after the last record: %v", err)
			}
			if err := sp.close(); err != nil {
				t.Error(err)
			}
			if err := sp.close(); err != nil {
				t.Errorf("second close: %v", err)
			}
			if name != "" {
				if _, err := os.Stat(name); !os.IsNotExist(err) {
					t.Errorf("temporary file %s remains", name)
				}
			}
		})
	}
}
