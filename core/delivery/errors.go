package delivery

import "github.com/kassahq/kassa/core/kit/errs"

// The stable error codes of the journal. Clients switch on them; never
// change a released one.
const (
	// CodeNotFound: no delivery of that event to that consumer.
	CodeNotFound = "DELIVERY_NOT_FOUND"
	// CodeNotDead: only a dead letter is replayed; a delivery that is
	// still retrying, delivered or being replayed is left alone.
	CodeNotDead = "DELIVERY_NOT_DEAD"
	// CodeConsumerUnknown: this instance runs no consumer of that name.
	CodeConsumerUnknown = "CONSUMER_UNKNOWN"
	// CodeInvalidStatus: a filter names no known status.
	CodeInvalidStatus = "INVALID_DELIVERY_STATUS"
)

func notFound() *errs.Error {
	return errs.NotFound(CodeNotFound, "no delivery of this event to this consumer")
}

func notDead(s Status) *errs.Error {
	return errs.Conflict("", CodeNotDead, "only a dead letter can be replayed; this delivery is "+string(s))
}

func consumerUnknown() *errs.Error {
	return errs.NotFound(CodeConsumerUnknown, "no consumer of this name runs here")
}

func invalidCursor() *errs.Error {
	return errs.Invalid("after", "INVALID_CURSOR", "cursor is not valid")
}

func invalidStatus() *errs.Error {
	return errs.Invalid("status", CodeInvalidStatus, "status must be one of DELIVERED, RETRYING, DEAD, REPLAYING")
}
