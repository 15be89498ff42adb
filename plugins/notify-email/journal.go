package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// journalFile records the messages sent, in KASSA_PLUGIN_DATA_DIR: one JSON
// object per line, {"id","delivery_id","at"}. It holds Kassa's message ids
// and the Message-IDs only, no addresses or content.
const journalFile = "notify-email-sent.jsonl"

// journalRetention is how long a sent message id is remembered. Kassa
// retries within minutes or hours; after this a message id is forgotten.
const journalRetention = 30 * 24 * time.Hour

type sentEntry struct {
	ID         string    `json:"id"`
	DeliveryID string    `json:"delivery_id"`
	At         time.Time `json:"at"`
}

// journal remembers sent message ids so a retry, also after a restart,
// does not send twice.
type journal struct {
	path string // empty: memory only

	mu   sync.Mutex
	sent map[string]sentEntry
}

// openJournal loads the journal in dir, dropping entries older than the
// retention (the file is then rewritten without them).
func openJournal(dir string, now time.Time) (*journal, error) {
	j := &journal{sent: map[string]sentEntry{}}
	if dir == "" {
		return j, nil
	}
	j.path = filepath.Join(dir, journalFile)
	f, err := os.Open(j.path)
	if os.IsNotExist(err) {
		return j, nil
	}
	if err != nil {
		return nil, err
	}
	expired := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e sentEntry
		if json.Unmarshal(sc.Bytes(), &e) != nil || e.ID == "" {
			continue // a torn last line: that send was never answered
		}
		if now.Sub(e.At) > journalRetention {
			expired++
			continue
		}
		j.sent[e.ID] = e
	}
	f.Close()
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", j.path, err)
	}
	if expired > 0 {
		if err := j.rewrite(); err != nil {
			return nil, err
		}
	}
	return j, nil
}

// lookup returns the delivery id of a sent message.
func (j *journal) lookup(id string) (string, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	e, ok := j.sent[id]
	return e.DeliveryID, ok
}

// record remembers a sent message, synced to disk before it returns.
func (j *journal) record(e sentEntry) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.sent[e.ID] = e
	if j.path == "" {
		return nil
	}
	b, _ := json.Marshal(e)
	f, err := os.OpenFile(j.path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// rewrite replaces the file with the entries in memory.
func (j *journal) rewrite() error {
	tmp := j.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, e := range j.sent {
		b, _ := json.Marshal(e)
		w.Write(append(b, '\n'))
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, j.path)
}
