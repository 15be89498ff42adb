package app

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kassahq/kassa/core/payment"
)

// paymentMetrics counts the payments' outcomes on /metrics, told by the
// payment service once each is committed:
//
//	kassa_payment_attempts_total{gateway, outcome}  outcome: authorized, captured, failed, cancelled, unknown
//	kassa_payment_webhooks_total{gateway, result}   result: applied, duplicate, flagged, rejected, failed
//
// The gateway label is an installed plugin's id (a notification to an
// unknown one is not counted), so the series stay few.
type paymentMetrics struct {
	attempts *prometheus.CounterVec
	webhooks *prometheus.CounterVec
}

var _ payment.Observer = (*paymentMetrics)(nil)

func newPaymentMetrics(reg prometheus.Registerer) *paymentMetrics {
	m := &paymentMetrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kassa_payment_attempts_total",
			Help: "Payment attempts reaching an outcome (authorized, captured, failed, cancelled, unknown), by gateway.",
		}, []string{"gateway", "outcome"}),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kassa_payment_webhooks_total",
			Help: "Gateway notifications received, by gateway and result (applied, duplicate, flagged, rejected, failed).",
		}, []string{"gateway", "result"}),
	}
	reg.MustRegister(m.attempts, m.webhooks)
	return m
}

// AttemptMoved implements payment.Observer.
func (m *paymentMetrics) AttemptMoved(gatewayID string, to payment.State) {
	m.attempts.WithLabelValues(gatewayID, strings.ToLower(string(to))).Inc()
}

// Webhook implements payment.Observer.
func (m *paymentMetrics) Webhook(gatewayID string, result payment.WebhookResultLabel) {
	m.webhooks.WithLabelValues(gatewayID, string(result)).Inc()
}
