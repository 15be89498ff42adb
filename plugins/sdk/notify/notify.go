package notify

import (
	"context"
	"encoding/json"
	"fmt"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/kassahq/kassa/plugins/sdk"
	pb "github.com/kassahq/kassa/plugins/sdk/internal/pb/kassa/plugin/v1"
	"github.com/kassahq/kassa/plugins/sdk/internal/rpc"
)

// ErrUnimplemented is sdk.ErrUnimplemented, returned for optional methods a
// channel does not implement.
var ErrUnimplemented = sdk.ErrUnimplemented

// Template ids Kassa sends. Channels fall back to a generic rendering for
// ids they do not know, or answer DeliveryFailed with code
// "template_missing".
const (
	TemplateOrderPlaced          = "order.placed"
	TemplateOrderPaid            = "order.paid"
	TemplateOrderShipped         = "order.shipped"
	TemplateOrderRefunded        = "order.refunded"
	TemplateAccountVerifyEmail   = "account.verify_email"
	TemplateAccountPasswordReset = "account.password_reset"
	TemplateStaffInvitation      = "staff.invitation"
)

// Capabilities a channel declares in its Info so Kassa knows which
// messages it may receive.
const (
	// CapPersonal: the channel delivers to the person named in
	// Recipient (an email address, a phone). Kassa sends account
	// messages, whose SecretData holds sign-in links, only to channels
	// declaring it.
	CapPersonal = "personal"
	// CapMerchantEvents: the channel forwards shop events to the
	// merchant's own systems (webhooks). It never receives account
	// messages.
	CapMerchantEvents = "merchant_events"
)

// Recipient is who receives a message; the channel decides which fields it
// needs (Email for notify.email, URL for notify.webhook).
type Recipient struct {
	// Email address.
	Email string
	// Phone number in E.164.
	Phone string
	// URL is an endpoint (webhooks).
	URL string
	// Name to address the recipient with.
	Name string
}

// Message is one notification to deliver.
type Message struct {
	// ID is Kassa's unique message id and the idempotency key: a retry with
	// the same ID must not deliver twice and returns the first answer.
	ID string
	// TemplateID names what happened, e.g. TemplateOrderPlaced.
	TemplateID string
	// Locale of the recipient (BCP 47); fall back to "en".
	Locale string
	// Recipient of the message.
	Recipient Recipient
	// Data is the template data, a JSON object.
	Data json.RawMessage
	// StoreID is the store the message is sent for.
	StoreID string
	// SecretData holds values that must not be logged or kept after
	// delivery (e.g. a password-reset link), a JSON object. Optional.
	SecretData json.RawMessage
}

// DeliveryStatus is the state of a delivery.
type DeliveryStatus int

// The delivery states.
const (
	// DeliveryUnknown is the zero value; never a valid answer.
	DeliveryUnknown DeliveryStatus = iota
	// DeliverySent: handed to the next hop.
	DeliverySent
	// DeliveryQueued: accepted for later delivery.
	DeliveryQueued
	// DeliveryFailed: not delivered; see Retryable and ErrorCode.
	DeliveryFailed
)

// String returns the state's name, e.g. "SENT".
func (s DeliveryStatus) String() string {
	switch s {
	case DeliverySent:
		return "SENT"
	case DeliveryQueued:
		return "QUEUED"
	case DeliveryFailed:
		return "FAILED"
	default:
		return "UNKNOWN"
	}
}

// Delivery is the outcome of Send. A refused delivery is data
// (DeliveryFailed), not an error.
type Delivery struct {
	// ID is the channel's id of the delivery (e.g. the SMTP Message-ID).
	ID string
	// Status of the delivery.
	Status DeliveryStatus
	// Retryable is true when a failed delivery may succeed later; Kassa
	// retries with backoff.
	Retryable bool
	// ErrorCode is a stable reason when failed, e.g. "recipient_rejected".
	ErrorCode string
	// ErrorMessage is detail for staff (never secrets).
	ErrorMessage string
}

// Channel is a notification channel plugin. Embed [UnimplementedChannel] and
// call [Serve] from main. The host side (sdk/host) returns a Channel backed
// by gRPC.
type Channel interface {
	sdk.Plugin
	// Send delivers one message, idempotently by Message.ID.
	Send(ctx context.Context, msg Message) (Delivery, error)
}

// UnimplementedChannel implements the optional methods of [Channel] by
// returning ErrUnimplemented. Embed it so new optional methods never break
// your plugin.
type UnimplementedChannel struct{}

// HandleHTTP returns ErrUnimplemented.
func (UnimplementedChannel) HandleHTTP(context.Context, sdk.HTTPRequest) (sdk.HTTPResponse, error) {
	return sdk.HTTPResponse{}, fmt.Errorf("NotificationChannel.HandleHTTP: %w", ErrUnimplemented)
}

// Serve runs c as a Kassa notification plugin until the host stops it:
//
//	func main() { notify.Serve(&Channel{}) }
func Serve(c Channel) {
	rpc.Serve(sdk.KindNotify, &GRPCPlugin{Impl: c})
}

// GRPCPlugin is the go-plugin glue of notification channels; [Serve] and
// sdk/host use it.
type GRPCPlugin struct {
	goplugin.NetRPCUnsupportedPlugin
	// Impl is the channel to serve (plugin side only).
	Impl Channel
}

// GRPCServer registers the Plugin and NotificationChannel services.
func (p *GRPCPlugin) GRPCServer(_ *goplugin.GRPCBroker, s *grpc.Server) error {
	pb.RegisterPluginServer(s, &rpc.CommonServer{Impl: p.Impl})
	pb.RegisterNotificationChannelServer(s, &server{impl: p.Impl})
	return nil
}

// GRPCClient returns a Channel backed by the connection.
func (p *GRPCPlugin) GRPCClient(_ context.Context, _ *goplugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return NewClient(c), nil
}

var deliveryToPB = map[DeliveryStatus]pb.DeliveryStatus{
	DeliverySent:   pb.DeliveryStatus_DELIVERY_STATUS_SENT,
	DeliveryQueued: pb.DeliveryStatus_DELIVERY_STATUS_QUEUED,
	DeliveryFailed: pb.DeliveryStatus_DELIVERY_STATUS_FAILED,
}

func deliveryFromPB(s pb.DeliveryStatus) DeliveryStatus {
	for k, v := range deliveryToPB {
		if v == s {
			return k
		}
	}
	return DeliveryUnknown
}

type server struct {
	pb.UnimplementedNotificationChannelServer
	impl Channel
}

func (s *server) Send(ctx context.Context, req *pb.SendRequest) (*pb.SendResponse, error) {
	r := req.GetRecipient()
	d, err := s.impl.Send(ctx, Message{
		ID: req.GetMessageId(), TemplateID: req.GetTemplateId(), Locale: req.GetLocale(),
		Recipient: Recipient{Email: r.GetEmail(), Phone: r.GetPhone(), URL: r.GetUrl(), Name: r.GetName()},
		Data:      req.GetData(), StoreID: req.GetStoreId(), SecretData: req.GetSecretData(),
	})
	if err != nil {
		return nil, rpc.ToStatus(err)
	}
	return &pb.SendResponse{
		DeliveryId: d.ID, Status: deliveryToPB[d.Status], Retryable: d.Retryable,
		ErrorCode: d.ErrorCode, ErrorMessage: d.ErrorMessage,
	}, nil
}

type client struct {
	*rpc.CommonClient
	c pb.NotificationChannelClient
}

// NewClient returns a [Channel] that calls a notification plugin over conn.
// Hosts normally get one from sdk/host.
func NewClient(conn grpc.ClientConnInterface) Channel {
	return &client{CommonClient: rpc.NewCommonClient(conn), c: pb.NewNotificationChannelClient(conn)}
}

func (c *client) Send(ctx context.Context, msg Message) (Delivery, error) {
	res, err := c.c.Send(ctx, &pb.SendRequest{
		MessageId: msg.ID, TemplateId: msg.TemplateID, Locale: msg.Locale,
		Recipient: &pb.Recipient{Email: msg.Recipient.Email, Phone: msg.Recipient.Phone, Url: msg.Recipient.URL, Name: msg.Recipient.Name},
		Data:      msg.Data, StoreId: msg.StoreID, SecretData: msg.SecretData,
	})
	if err != nil {
		return Delivery{}, rpc.FromStatus(ctx, "NotificationChannel.Send", err)
	}
	return Delivery{
		ID: res.GetDeliveryId(), Status: deliveryFromPB(res.GetStatus()), Retryable: res.GetRetryable(),
		ErrorCode: res.GetErrorCode(), ErrorMessage: res.GetErrorMessage(),
	}, nil
}
