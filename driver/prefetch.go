package driver

import (
	"database/sql/driver"
	"sync"

	"github.com/gocarto/carto/driver/internal/column"
)

// Once the trailer has arrived the server is idle, and the caller's loop (database/sql's Next
// and Scan, and whatever it does with each row) runs on one core while another is free. For an
// answer of many rows, a decoder goroutine turns the records into typed values ahead of the
// caller, and Next only copies a row out.
//
// Decoding a row costs more than database/sql's Next and Scan of it, so the decoder alone would
// set the pace while the caller waits on it. So the work is cut into runs of rows that decode
// independently: whoever decodes one takes it out of the spool (a copy, under a lock, which is
// cheap) and decodes it with a Boxer of its own. When the run Next needs is not ready, Next
// decodes a later run itself instead of waiting idle, and the two cores share the whole work.
// Runs are numbered as they are taken and Next reads them in that order, so rows keep their order
// and an error comes out at its row.
//
// Memory stays flat: a fixed set of batches goes round, so what is decoded ahead is at most
// prefetchBatches runs of at most batchMaxBytes of records each (plus one record).
//
// Small answers are decoded in Next, with no goroutine: starting a decoder and handing rows over
// would cost more than it saves on a few rows, and a one-row answer's latency matters.

// Variables so that tests can have small answers prefetched, and BenchmarkYield compare.
var (
	// prefetchMinRows is the least number of rows an answer needs for a decoder. Handing runs
	// over between cores has a cost that only long answers repay: on the 2-core machine of issue
	// 14, BenchmarkYield's loop took 1.5x as long decoded ahead at 5,000 rows, as long at 20,000,
	// and 0.8x at 32,768 and 0.7x from 50,000 on.
	prefetchMinRows int64 = 32768
	// prefetchDecoders is the decoder goroutines an answer gets, at most GOMAXPROCS-1. One
	// measured as fast as two on two cores, since Next decodes too when it would wait, and
	// costs less CPU.
	prefetchDecoders = 1
)

const (
	// prefetchBatches are the batches going round: one being read, one being filled by each
	// decoder and by Next, the rest ready, which absorbs the sides' unevenness without holding
	// much.
	prefetchBatches = 6
	// batchMaxRows and batchMaxValues bound a batch's rows: a hand-over per few hundred rows is
	// negligible, while wide rows would make big batches.
	batchMaxRows   = 256
	batchMaxValues = 8192
	// batchMaxBytes bounds the records of a batch, so that rows of big values (long texts,
	// geometries) held ahead stay a bounded amount of memory; a batch whose buffer one huge
	// record grew past twice this lets it go when it comes back.
	batchMaxBytes = 128 << 10
	// firstBatchRows is the size of the first batch, kept small so that the caller's first
	// row does not wait for a whole batch.
	firstBatchRows = 16
)

// batch is a run of rows: their records, then their values.
type batch struct {
	seq  int            // the run's number, in the order of the rows
	recs []byte         // the records, copied out of the spool (which reuses its memory)
	ends []int          // the end of each record in recs
	vals []driver.Value // n rows of cols values each
	n    int            // rows decoded
	err  error          // what ends the rows after the n: nil (more follow), io.EOF, or an error
}

// prefetcher hands rows decoded ahead to Next, in order.
type prefetcher struct {
	cols     int
	perBatch int

	mu  sync.Mutex // guards the spool, seq and end while a run is taken
	seq int        // the number of the next run to take
	end error      // what ended the spool's records, once they have

	free  chan *batch   // batches to fill: every batch fits, so sending never blocks
	slots []chan *batch // batch seq goes to slots[seq%len(slots)], each holding one (see take)
	stop  chan struct{} // closed by close: the decoders return
	wg    sync.WaitGroup

	cur  *batch // the batch Next reads
	pos  int    // its next row
	want int    // the number of the batch Next reads after cur
}

// prefetch starts n decoders (at least one) of r's rows. From then on r's spool is read only
// under the prefetcher's lock, until close has stopped them.
func (r *rows) prefetch(n int) *prefetcher {
	cols := len(r.cols)
	p := &prefetcher{
		cols:     cols,
		perBatch: min(batchMaxRows, max(1, batchMaxValues/max(cols, 1))),
		free:     make(chan *batch, prefetchBatches),
		slots:    make([]chan *batch, prefetchBatches),
		stop:     make(chan struct{}),
		// An empty batch for Next to give back first: it makes the hand-over of every batch
		// alike.
		cur: &batch{},
	}
	for i := range p.slots {
		p.slots[i] = make(chan *batch, 1)
	}
	for range prefetchBatches - 1 {
		p.free <- &batch{}
	}
	n = max(n, 1)
	p.wg.Add(n)
	for range n {
		go r.decodeAhead(p)
	}
	return p
}

// decodeAhead fills free batches with the next runs of rows until the rows end or close stops it.
func (r *rows) decodeAhead(p *prefetcher) {
	defer p.wg.Done()
	var box column.Boxer
	for {
		// Stop first: when a free batch is ready too, select would pick either, and close waits.
		select {
		case <-p.stop:
			return
		default:
		}
		select {
		case b := <-p.free:
			if r.fill(p, b, &box) {
				return
			}
		case <-p.stop:
			return
		}
	}
}

// fill takes the next run of rows into b, decodes it with bx and puts it in its slot. It
// reports whether the rows have ended.
func (r *rows) fill(p *prefetcher, b *batch, bx *column.Boxer) (last bool) {
	last = r.take(p, b)
	if len(b.vals) < len(b.ends)*p.cols {
		b.vals = make([]driver.Value, p.perBatch*p.cols)
	}
	start := 0
	for i, end := range b.ends {
		if err := r.decode(b.recs[start:end], b.vals[i*p.cols:(i+1)*p.cols], bx); err != nil {
			// Rows after it were taken but are never yielded: Next stops here.
			b.n, b.err = i, err
			break
		}
		b.n, start = i+1, end
	}
	// Never blocks: the batch that had this slot before, seq-prefetchBatches, was read (see
	// take).
	p.slots[b.seq%len(p.slots)] <- b
	return last
}

// take copies the next run of records out of the spool into b, numbering it. It reports whether
// the records have ended, with b.err saying how (io.EOF or the spool's error).
//
// A run gets its slot when it is numbered here. Next gives batches back in the order of their
// numbers, and there are prefetchBatches of them, so a batch numbered seq here was given back
// after run seq-prefetchBatches (or is one of the first), which Next had therefore taken out of
// the slot.
func (r *rows) take(p *prefetcher, b *batch) (last bool) {
	b.recs, b.ends, b.n, b.err = b.recs[:0], b.ends[:0], 0, nil
	if cap(b.recs) > 2*batchMaxBytes {
		b.recs = nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	b.seq = p.seq
	p.seq++
	limit := p.perBatch
	if b.seq == 0 {
		limit = min(limit, firstBatchRows)
	}
	for p.end == nil && len(b.ends) < limit && len(b.recs) < batchMaxBytes {
		rec, err := r.sp.next()
		if err != nil {
			p.end = err
			break
		}
		b.recs = append(b.recs, rec...)
		b.ends = append(b.ends, len(b.recs))
	}
	b.err = p.end
	return p.end != nil
}

// nextAhead fills dest with the next row. When the next batch is not ready yet, it decodes a later
// one itself rather than wait idle, with r's Boxer (Next's, unused otherwise): the caller's core
// then shares the decoding whenever the caller's own work leaves it time. Once the rows have
// ended, with io.EOF or an error, every call returns that again.
func (r *rows) nextAhead(p *prefetcher, dest []driver.Value) error {
	for p.pos == p.cur.n {
		if p.cur.err != nil {
			return p.cur.err
		}
		p.free <- p.cur
		slot := p.slots[p.want%len(p.slots)]
		select {
		case p.cur = <-slot:
		default:
			select {
			case b := <-p.free:
				r.fill(p, b, &r.box)
			default:
			}
			p.cur = <-slot
		}
		p.pos = 0
		p.want++
	}
	// The values point to memory no decoder writes again (Boxer slots, fresh slices), so the
	// batch's slots can be filled anew once the caller has moved on: database/sql copies or
	// converts dest's values in Scan, and RawBytes it hands out stay valid.
	i := p.pos * p.cols
	n := copy(dest, p.cur.vals[i:i+p.cols])
	clear(dest[n:])
	p.pos++
	return nil
}

// close stops the decoders and waits until they have returned, so that the spool they read can
// be released.
func (p *prefetcher) close() {
	close(p.stop)
	p.wg.Wait()
}
