package payment

import (
	"github.com/kassahq/kassa/core/transition"
)

// The names of payment's machines, as their timelines name them.
const (
	MachineAttempt = "payment.attempt"
	MachineRefund  = "payment.refund"
)

// Attempts is the life of a payment attempt. Every move records a fact
// learnt from the gateway (or the lack of one), so only the platform
// makes them: the service checks the caller's permission first, then
// applies the gateway's answer as a system subject. A later fact may
// contradict an earlier one (a capture after a decline): the gateway's
// truth wins, and money taken is never undone by a move.
var Attempts = transition.New[State](MachineAttempt).
	Allow(StatePending, StateAuthorized, transition.System, transition.ReasonOptional, SubjectAuthorized).
	Allow(StatePending, StateCaptured, transition.System, transition.ReasonOptional, SubjectSucceeded).
	Allow(StatePending, StateFailed, transition.System, transition.ReasonOptional, SubjectFailed).
	Allow(StatePending, StateCancelled, transition.System, transition.ReasonOptional, SubjectCancelled).
	Allow(StatePending, StateUnknown, transition.System, transition.ReasonOptional, SubjectUnknown).
	Allow(StateUnknown, StatePending, transition.System, transition.ReasonOptional, SubjectPending).
	Allow(StateUnknown, StateAuthorized, transition.System, transition.ReasonOptional, SubjectAuthorized).
	Allow(StateUnknown, StateCaptured, transition.System, transition.ReasonOptional, SubjectSucceeded).
	Allow(StateUnknown, StateFailed, transition.System, transition.ReasonOptional, SubjectFailed).
	Allow(StateUnknown, StateCancelled, transition.System, transition.ReasonOptional, SubjectCancelled).
	Allow(StateAuthorized, StateCaptured, transition.System, transition.ReasonOptional, SubjectSucceeded).
	Allow(StateAuthorized, StateCancelled, transition.System, transition.ReasonOptional, SubjectCancelled).
	Allow(StateFailed, StateAuthorized, transition.System, transition.ReasonOptional, SubjectAuthorized).
	Allow(StateFailed, StateCaptured, transition.System, transition.ReasonOptional, SubjectSucceeded).
	Allow(StateCancelled, StateCaptured, transition.System, transition.ReasonOptional, SubjectSucceeded)

// Refunds is the life of a refund.
var Refunds = transition.New[RefundState](MachineRefund).
	Allow(RefundStatePending, RefundStateSucceeded, transition.System, transition.ReasonOptional, SubjectRefundSucceeded).
	Allow(RefundStatePending, RefundStateFailed, transition.System, transition.ReasonOptional, SubjectRefundFailed).
	Allow(RefundStatePending, RefundStateUnknown, transition.System, transition.ReasonOptional, SubjectRefundUnknown).
	Allow(RefundStateUnknown, RefundStatePending, transition.System, transition.ReasonOptional, SubjectRefundPending).
	Allow(RefundStateUnknown, RefundStateSucceeded, transition.System, transition.ReasonOptional, SubjectRefundSucceeded).
	Allow(RefundStateUnknown, RefundStateFailed, transition.System, transition.ReasonOptional, SubjectRefundFailed)

func attemptStorage() transition.Storage {
	return transition.Storage{Table: "payment_attempts", Key: "id", State: "state", Timeline: "payment_attempt_timeline", TimelineKey: "attempt_id"}
}

func refundStorage() transition.Storage {
	return transition.Storage{Table: "payment_refunds", Key: "id", State: "state", Timeline: "payment_refund_timeline", TimelineKey: "refund_id"}
}
