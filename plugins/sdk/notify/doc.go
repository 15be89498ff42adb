// Package notify is what notification channel plugins implement: the
// [Channel] interface, [Message] and [Delivery], [UnimplementedChannel] and
// [Serve] for main.
//
//	type Channel struct {
//		notify.UnimplementedChannel
//	}
//
//	func (c *Channel) Send(ctx context.Context, m notify.Message) (notify.Delivery, error) {
//		// render m.TemplateID in m.Locale with m.Data, deliver to m.Recipient
//		return notify.Delivery{ID: "...", Status: notify.DeliverySent}, nil
//	}
//
//	func main() { notify.Serve(&Channel{}) }
//
// Send is idempotent by Message.ID; a failed delivery is data
// (DeliveryFailed with Retryable and an ErrorCode), not an error.
package notify
