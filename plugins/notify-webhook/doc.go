// Command notify-webhook is Kassa's merchant webhook plugin
// (notify.webhook): it POSTs Kassa's events as signed JSON to URLs of the
// shop's own systems (ERP, warehouse, accounting).
//
// # Settings
//
//	{
//	  "endpoints": [
//	    {"name": "erp", "url": "https://erp.example.com/kassa", "events": ["order.*", "refund.succeeded"]},
//	    {"name": "audit", "url": "https://audit.example.com/in"}
//	  ],
//	  "signing_secrets": {"erp": "whsec_...", "audit": "whsec_..."},
//	  "max_attempts": 12, "retry_initial_delay_ms": 10000, "timeout_ms": 10000
//	}
//
// An endpoint has a unique name, an http:// or https:// URL (nothing else
// is accepted, nor user names or passwords in the URL) and an event filter:
// "order.paid" matches itself, "order.*" every order event, "*" (the
// default) everything. The signing secrets (16+ characters) are kept apart
// in signing_secrets, one per endpoint name, because Kassa encrypts
// writeOnly settings by JSON pointer and cannot reach into the endpoints
// array; every endpoint needs one.
//
// # Requests
//
// Send turns a notify.Message into one POST per subscribed endpoint (or,
// when Recipient.URL is set, to the configured endpoint with that URL only)
// with the body
//
//	{"id": "<message id>", "type": "<template id, e.g. order.paid>", "created_at": "<RFC 3339>", "data": <Message.Data>}
//
// and the headers Content-Type: application/json, Kassa-Event-Id,
// Kassa-Event-Type, Kassa-Delivery-Id, Kassa-Delivery-Attempt (from 1) and
// Kassa-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">,
// made with the endpoint's secret at each attempt. Receivers verify it with
// the SDK's webhook.Verifier (or any Stripe-style verifier), refuse stale
// timestamps, and drop duplicates by the event id, which stays the same
// across attempts. Message.SecretData is never sent.
//
// # Retries and status
//
// The first attempt is made during Send. A 2xx answer is success. A 5xx,
// 408, 425 or 429 answer, a timeout (timeout_ms) or a connection error is
// retried in the background by the plugin process with exponential backoff:
// retry_initial_delay_ms, then twice as long each time (±10% jitter, at
// most one hour, longer when the endpoint sends Retry-After), until
// max_attempts attempts were made. Any other answer, including redirects
// (never followed), is final.
//
// Send answers SENT when every subscribed endpoint accepted the event (also
// when no endpoint subscribes to it), QUEUED while retries are pending, and
// FAILED (not Retryable: the plugin retried already) with endpoint_rejected
// or retries_exhausted; ErrorMessage details each endpoint. Send is
// idempotent by message id: calling it again never POSTs again but returns
// the current status, which is how Kassa follows a QUEUED delivery. The
// deliveries live in a journal of plugins/sdk/state,
// KASSA_PLUGIN_DATA_DIR/notify-webhook-deliveries.jsonl (the whole-state
// file notify-webhook-state.json of earlier builds is folded into it
// once), written before the first attempt and before Send answers, so
// retries continue after a restart (at least once: an attempt cut off by
// a crash is made again); finished ones are forgotten seven days after
// they finished (checked at start and then hourly, the journal compacted
// to what is kept) and their payload as soon as they are final; deliveries
// still retrying are kept whatever their age.
package main
