package delivery

import "time"

// Status is where a consumer stands with an event.
type Status string

// Statuses of a delivery.
const (
	// Delivered: the consumer took the event.
	Delivered Status = "DELIVERED"
	// Retrying: the consumer failed and the bus will deliver again.
	Retrying Status = "RETRYING"
	// Dead: the consumer gave up; staff may replay the event.
	Dead Status = "DEAD"
	// Replaying: a staff replay is running (a crashed replay is taken
	// over after ReplayTimeout).
	Replaying Status = "REPLAYING"
)

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	switch s {
	case Delivered, Retrying, Dead, Replaying:
		return true
	}
	return false
}

// Delivery is one consumer's record of one event.
type Delivery struct {
	// Consumer is the durable consumer's name, e.g. "notify-orders-0".
	Consumer string
	// EventID and Subject name the event.
	EventID string
	Subject string
	Status  Status
	// Attempts counts the consumer's tries, replays included.
	Attempts int
	// LastError is the error of the last failed try; empty after a
	// success.
	LastError string
	// OccurredAt is when the event happened.
	OccurredAt time.Time
	// FirstAttemptAt and LastAttemptAt bound the tries.
	FirstAttemptAt time.Time
	LastAttemptAt  time.Time
	// ReplayedBy is the staff member (or API key) who last replayed the
	// event; ReplayedAt when. Empty and nil when never replayed.
	ReplayedBy string
	ReplayedAt *time.Time
}

// Filter narrows a listing. Zero fields do not filter.
type Filter struct {
	Status   Status
	Consumer string
}
