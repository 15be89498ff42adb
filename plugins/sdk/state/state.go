package state

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// DefaultCompactMin is the journal length, in lines, below which a journal
// is never compacted when [Options.CompactMin] is zero.
const DefaultCompactMin = 4096

// Options configure a [Store].
type Options[R any] struct {
	// Dir is the directory of the journal, normally
	// $KASSA_PLUGIN_DATA_DIR. Empty keeps the records in memory only.
	Dir string
	// File is the journal's file name in Dir (required with Dir), e.g.
	// "stripe-attempts.jsonl".
	File string
	// Legacy, when set, names a file in Dir holding a JSON object of key →
	// record (the whole-file format plugins wrote before this package):
	// it is read once at Open, folded into a fresh journal and removed.
	Legacy string
	// Expired reports records to forget: they are hidden from Get and
	// Range at once and dropped at the next compaction. Nil keeps
	// everything.
	Expired func(r R, now time.Time) bool
	// Clone deep-copies a record. Set it when R holds maps or slices
	// that Update callbacks change in place; nil copies R by value.
	Clone func(r R) R
	// CompactMin is the journal length, in lines, below which the
	// journal is not compacted; zero means DefaultCompactMin.
	CompactMin int
	// Now is the clock for Expired; nil means time.Now.
	Now func() time.Time
}

// entry is one line of the journal: the whole record as it is after a
// change (the last line of a key wins), its deletion, or a batch of such
// changes written by one Append, replayed all or none.
type entry[R any] struct {
	Key     string     `json:"k,omitempty"`
	Record  *R         `json:"r,omitempty"`
	Deleted bool       `json:"d,omitempty"`
	Batch   []entry[R] `json:"b,omitempty"`
}

// valid reports whether e is a single change or a batch of them.
func (e entry[R]) valid(inBatch bool) bool {
	if len(e.Batch) > 0 {
		if inBatch || e.Key != "" || e.Record != nil || e.Deleted {
			return false
		}
		for _, c := range e.Batch {
			if !c.valid(true) {
				return false
			}
		}
		return true
	}
	return e.Key != "" && (e.Record == nil) == e.Deleted
}

// Change is one change of an [Store.Append]: the new record of Key, or
// its deletion when Record is nil.
type Change[R any] struct {
	Key    string
	Record *R
}

// Store is a durable map from string keys to records of type R. Safe for
// concurrent use.
type Store[R any] struct {
	opts Options[R]

	mu      sync.Mutex // guards m, f, lines, written, synced and buf
	m       map[string]R
	f       *os.File // nil when in memory
	lines   int      // lines in the journal file
	written uint64   // writes made to f
	synced  uint64   // writes known to be on disk
	buf     bytes.Buffer
}

// Open loads the records of the journal in opts.Dir (and of the legacy
// file, if any) and opens the journal for appending.
func Open[R any](opts Options[R]) (*Store[R], error) {
	if opts.CompactMin <= 0 {
		opts.CompactMin = DefaultCompactMin
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Store[R]{opts: opts, m: map[string]R{}}
	if opts.Dir == "" {
		return s, nil
	}
	if opts.File == "" {
		return nil, errors.New("state: Options.File is required with Options.Dir")
	}
	legacy, err := s.loadLegacy()
	if err != nil {
		return nil, err
	}
	path := filepath.Join(opts.Dir, opts.File)
	lines, good, err := s.replay(path)
	if err != nil {
		return nil, err
	}
	s.lines = lines
	if legacy || lines > opts.CompactMin {
		// The legacy records go into a fresh journal before their file is
		// removed; a long journal starts short.
		if err := s.compactLocked(); err != nil {
			return nil, err
		}
		if legacy {
			if err := os.Remove(filepath.Join(opts.Dir, opts.Legacy)); err != nil {
				return nil, fmt.Errorf("state: remove %s: %w", opts.Legacy, err)
			}
		}
		return s, nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("state: open %s: %w", opts.File, err)
	}
	// Cut a torn tail off: appending after it would glue the next line to
	// the broken one and make the journal unreadable at the next start.
	if err := f.Truncate(good); err != nil {
		f.Close()
		return nil, fmt.Errorf("state: truncate %s: %w", opts.File, err)
	}
	if _, err := f.Seek(good, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("state: seek %s: %w", opts.File, err)
	}
	s.f = f
	return s, nil
}

func (s *Store[R]) loadLegacy() (bool, error) {
	if s.opts.Legacy == "" {
		return false, nil
	}
	b, err := os.ReadFile(filepath.Join(s.opts.Dir, s.opts.Legacy))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("state: read %s: %w", s.opts.Legacy, err)
	}
	var old map[string]R
	if err := json.Unmarshal(b, &old); err != nil {
		return false, fmt.Errorf("state: corrupt legacy file %s: %w", s.opts.Legacy, err)
	}
	for k, r := range old {
		s.m[k] = r
	}
	return true, nil
}

// replay applies the journal at path and returns its line count and the
// length of its readable prefix. An unterminated last line, or an
// unreadable one at the very end, is a write cut short by a crash: it was
// never fsync'd, so no answer depended on it, and it is dropped.
func (s *Store[R]) replay(path string) (lines int, good int64, err error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("state: open %s: %w", s.opts.File, err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	var bad error // an unreadable line, fatal unless it is the last
	for {
		line, rerr := r.ReadBytes('\n')
		if errors.Is(rerr, io.EOF) {
			return lines, good, nil
		}
		if rerr != nil {
			return 0, 0, fmt.Errorf("state: read %s: %w", s.opts.File, rerr)
		}
		if bad != nil {
			return 0, 0, bad
		}
		var e entry[R]
		if err := json.Unmarshal(line, &e); err != nil || !e.valid(false) {
			if err == nil {
				err = errors.New("neither a record, a deletion nor a batch of them")
			}
			bad = fmt.Errorf("state: corrupt journal %s line %d: %w", s.opts.File, lines+1, err)
			continue
		}
		lines++
		good += int64(len(line))
		for _, c := range append(e.Batch, e) {
			switch {
			case c.Deleted:
				delete(s.m, c.Key)
			case c.Record != nil:
				s.m[c.Key] = *c.Record
			}
		}
	}
}

func (s *Store[R]) live(r R) bool {
	return s.opts.Expired == nil || !s.opts.Expired(r, s.opts.Now())
}

func (s *Store[R]) clone(r R) R {
	if s.opts.Clone == nil {
		return r
	}
	return s.opts.Clone(r)
}

// Get returns the record of key and whether there is a live one.
func (s *Store[R]) Get(key string) (R, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.m[key]
	if !ok || !s.live(r) {
		var zero R
		return zero, false
	}
	return s.clone(r), true
}

// Len returns the number of records held, expired ones not yet compacted
// away included.
func (s *Store[R]) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

// Range calls fn for each live record, in no particular order, until fn
// returns false. fn runs under the store's lock: it must not call the
// store.
func (s *Store[R]) Range(fn func(key string, r R) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, r := range s.m {
		if s.live(r) && !fn(k, s.clone(r)) {
			return
		}
	}
}

// Put stores r under key and returns once the change is on disk.
func (s *Store[R]) Put(key string, r R) error {
	return s.Update(key, func(cur *R, _ bool) bool { *cur = r; return true })
}

// Update changes the record of key under the store's lock: fn gets a copy
// of the live record (the zero R and false when there is none) and returns
// whether to store it. Update returns once the change is on disk, so an
// answer given after it is never forgotten by a crash. fn must not call the
// store.
func (s *Store[R]) Update(key string, fn func(r *R, exists bool) bool) error {
	if key == "" {
		return errors.New("state: empty key")
	}
	s.mu.Lock()
	cur, ok := s.m[key]
	if ok && s.live(cur) {
		cur = s.clone(cur)
	} else {
		var zero R
		cur, ok = zero, false
	}
	if !fn(&cur, ok) {
		s.mu.Unlock()
		return nil
	}
	s.m[key] = cur
	err := s.appendLocked(entry[R]{Key: key, Record: &cur})
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return s.Sync()
}

// Delete forgets key and returns once the deletion is on disk.
func (s *Store[R]) Delete(key string) error {
	s.mu.Lock()
	if _, ok := s.m[key]; !ok {
		s.mu.Unlock()
		return nil
	}
	delete(s.m, key)
	err := s.appendLocked(entry[R]{Key: key, Deleted: true})
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return s.Sync()
}

// Append makes the changes in memory and writes them to the journal as
// one line, so that a crash keeps all of them or none, but does not wait
// for the disk: they are durable once [Store.Sync] returns. It serves
// callers that guard their own state with a lock of theirs: Append under
// it, Sync after releasing it, so that concurrent callers share fsyncs
// instead of queueing behind the lock. Records passed are stored as they
// are (not cloned).
func (s *Store[R]) Append(changes ...Change[R]) error {
	var e entry[R]
	for _, c := range changes {
		if c.Key == "" {
			return errors.New("state: empty key")
		}
		e.Batch = append(e.Batch, entry[R]{Key: c.Key, Record: c.Record, Deleted: c.Record == nil})
	}
	switch len(e.Batch) {
	case 0:
		return nil
	case 1:
		e = e.Batch[0]
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range changes {
		if c.Record == nil {
			delete(s.m, c.Key)
		} else {
			s.m[c.Key] = *c.Record
		}
	}
	return s.appendLocked(e)
}

// appendLocked writes e as one line in one write (a process that dies
// after it loses nothing: the data is in the kernel) and compacts the
// journal when it has grown past its bound.
func (s *Store[R]) appendLocked(e entry[R]) error {
	if s.f == nil {
		return nil
	}
	s.buf.Reset()
	if err := json.NewEncoder(&s.buf).Encode(e); err != nil { // Encode ends with '\n'
		return fmt.Errorf("state: encode %q: %w", e.Key, err)
	}
	if _, err := s.f.Write(s.buf.Bytes()); err != nil {
		return fmt.Errorf("state: append to %s: %w", s.opts.File, err)
	}
	s.lines++
	s.written++
	if s.lines > s.opts.CompactMin && s.lines > 2*len(s.m) {
		return s.compactLocked()
	}
	return nil
}

// Sync makes every change made so far durable. Concurrent callers share
// one fsync: whoever flushes covers the writes made before it started.
func (s *Store[R]) Sync() error {
	s.mu.Lock()
	target := s.written
	if s.f == nil || s.synced >= target {
		s.mu.Unlock()
		return nil
	}
	f := s.f
	s.mu.Unlock()
	// Outside the lock so that writes go on during the flush. A compaction
	// meanwhile fsyncs the new file before closing f, which covers target.
	err := f.Sync()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil && s.f == f {
		return fmt.Errorf("state: fsync %s: %w", s.opts.File, err)
	}
	s.synced = max(s.synced, target)
	return nil
}

// Compact rewrites the journal to the live records now, whatever its
// length.
func (s *Store[R]) Compact() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opts.Dir == "" {
		return nil
	}
	return s.compactLocked()
}

// compactLocked drops expired records, writes the live ones (sorted by
// key, so the file is stable) to a new journal, fsyncs it and renames it
// over the old one: at every moment one complete journal is on disk.
func (s *Store[R]) compactLocked() error {
	for k, r := range s.m {
		if !s.live(r) {
			delete(s.m, k)
		}
	}
	tmp, err := os.CreateTemp(s.opts.Dir, s.opts.File+".*")
	if err != nil {
		return fmt.Errorf("state: compact %s: %w", s.opts.File, err)
	}
	fail := func(err error) error {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("state: compact %s: %w", s.opts.File, err)
	}
	w := bufio.NewWriterSize(tmp, 64<<10)
	enc := json.NewEncoder(w)
	keys := make([]string, 0, len(s.m))
	for k := range s.m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		r := s.m[k]
		if err := enc.Encode(entry[R]{Key: k, Record: &r}); err != nil {
			return fail(err)
		}
	}
	if err := w.Flush(); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	path := filepath.Join(s.opts.Dir, s.opts.File)
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fail(err)
	}
	if d, err := os.Open(s.opts.Dir); err == nil {
		_ = d.Sync() // the rename itself survives a crash; best effort where directories cannot be synced
		d.Close()
	}
	tmp.Close()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("state: reopen %s: %w", s.opts.File, err)
	}
	if s.f != nil {
		s.f.Close()
	}
	s.f, s.lines = f, len(keys)
	s.synced = s.written
	return nil
}

// Close closes the journal. The store must not be used after.
func (s *Store[R]) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	if err != nil {
		return fmt.Errorf("state: close %s: %w", s.opts.File, err)
	}
	return nil
}
