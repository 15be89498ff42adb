package app

import (
	"time"

	"github.com/kassahq/kassa/core/order"
)

// How often the order schedulers look for due orders: a reminder or a
// cancellation comes at most this late (plus a tenth for jitter). The
// shop's deadline is minutes long (5 at least), so a minute is in
// proportion; the scans are index range reads of unpaid orders only.
const (
	orderReminderInterval = time.Minute
	orderCloserInterval   = time.Minute
)

// addOrderSchedulers adds the order's schedulers (ADR 0008) to the
// instance's workers, after the relay and the consumers they rely on:
// order.payment_reminder and order.deadline_closer. Every instance runs
// them; each claims the orders it works on under its own holder id, so
// none is reminded or cancelled twice. Before the closer cancels an
// unpaid order past its deadline, the payments close its trades at the
// gateways (the orders' PaymentCloser, NewPayments): an order paid at the
// last moment is kept and paid, never cancelled.
func (a *App) addOrderSchedulers() error {
	sc, err := order.NewScheduler(a.Orders, order.SchedulerOptions{
		ReminderInterval: orderReminderInterval,
		CloserInterval:   orderCloserInterval,
		Logger:           a.Log,
	})
	if err != nil {
		return err
	}
	ws, err := sc.Workers()
	if err != nil {
		return err
	}
	return a.workers.Add(ws...)
}
