package payment

import (
	pb "github.com/kassahq/kassa/plugins/sdk/internal/pb/kassa/plugin/v1"
	"github.com/kassahq/kassa/plugins/sdk/internal/rpc"
)

// Conversions between the SDK's payment types and the generated protobuf
// types. Enum values are mapped explicitly so the Go constants never depend
// on protobuf numbering.

var statusToPB = map[Status]pb.PaymentStatus{
	StatusPending:        pb.PaymentStatus_PAYMENT_STATUS_PENDING,
	StatusRequiresAction: pb.PaymentStatus_PAYMENT_STATUS_REQUIRES_ACTION,
	StatusAuthorized:     pb.PaymentStatus_PAYMENT_STATUS_AUTHORIZED,
	StatusSucceeded:      pb.PaymentStatus_PAYMENT_STATUS_SUCCEEDED,
	StatusFailed:         pb.PaymentStatus_PAYMENT_STATUS_FAILED,
	StatusCanceled:       pb.PaymentStatus_PAYMENT_STATUS_CANCELED,
	StatusNotFound:       pb.PaymentStatus_PAYMENT_STATUS_NOT_FOUND,
}

func statusFromPB(s pb.PaymentStatus) Status {
	for k, v := range statusToPB {
		if v == s {
			return k
		}
	}
	return StatusUnknown
}

var actionToPB = map[ActionType]pb.ActionType{
	ActionNone:         pb.ActionType_ACTION_TYPE_NONE,
	ActionRedirect:     pb.ActionType_ACTION_TYPE_REDIRECT,
	ActionQRCode:       pb.ActionType_ACTION_TYPE_QR_CODE,
	ActionClientSecret: pb.ActionType_ACTION_TYPE_CLIENT_SECRET,
	ActionInstructions: pb.ActionType_ACTION_TYPE_INSTRUCTIONS,
}

func actionTypeFromPB(a pb.ActionType) ActionType {
	for k, v := range actionToPB {
		if v == a {
			return k
		}
	}
	return ActionNone
}

var cancelToPB = map[CancelStatus]pb.CancelStatus{
	CancelCanceled:    pb.CancelStatus_CANCEL_STATUS_CANCELED,
	CancelAlreadyPaid: pb.CancelStatus_CANCEL_STATUS_ALREADY_PAID,
	CancelFailed:      pb.CancelStatus_CANCEL_STATUS_FAILED,
}

func cancelFromPB(s pb.CancelStatus) CancelStatus {
	for k, v := range cancelToPB {
		if v == s {
			return k
		}
	}
	return CancelUnknown
}

var refundToPB = map[RefundStatus]pb.RefundStatus{
	RefundPending:   pb.RefundStatus_REFUND_STATUS_PENDING,
	RefundSucceeded: pb.RefundStatus_REFUND_STATUS_SUCCEEDED,
	RefundFailed:    pb.RefundStatus_REFUND_STATUS_FAILED,
	RefundNotFound:  pb.RefundStatus_REFUND_STATUS_NOT_FOUND,
}

func refundStatusFromPB(s pb.RefundStatus) RefundStatus {
	for k, v := range refundToPB {
		if v == s {
			return k
		}
	}
	return RefundUnknown
}

var rejectToPB = map[RejectionReason]pb.RejectionReason{
	RejectBadSignature:  pb.RejectionReason_REJECTION_REASON_BAD_SIGNATURE,
	RejectStale:         pb.RejectionReason_REJECTION_REASON_STALE,
	RejectReplay:        pb.RejectionReason_REJECTION_REASON_REPLAY,
	RejectMalformed:     pb.RejectionReason_REJECTION_REASON_MALFORMED,
	RejectNotConfigured: pb.RejectionReason_REJECTION_REASON_NOT_CONFIGURED,
}

func rejectFromPB(r pb.RejectionReason) RejectionReason {
	for k, v := range rejectToPB {
		if v == r {
			return k
		}
	}
	return RejectNone
}

func actionToPBMsg(a Action) *pb.PaymentAction {
	if a.Type == ActionNone && a.URL == "" && a.QRCode == "" && a.ClientSecret == "" && a.Instructions == "" && len(a.Details) == 0 {
		return nil
	}
	return &pb.PaymentAction{
		Type: actionToPB[a.Type], Url: a.URL, QrCode: a.QRCode, ClientSecret: a.ClientSecret,
		Instructions: a.Instructions, ExpiresAt: rpc.TS(a.ExpiresAt), Details: a.Details,
	}
}

func actionFromPB(a *pb.PaymentAction) Action {
	if a == nil {
		return Action{}
	}
	return Action{
		Type: actionTypeFromPB(a.GetType()), URL: a.GetUrl(), QRCode: a.GetQrCode(), ClientSecret: a.GetClientSecret(),
		Instructions: a.GetInstructions(), ExpiresAt: rpc.Time(a.GetExpiresAt()), Details: a.GetDetails(),
	}
}

func createReqToPB(r CreateRequest) *pb.CreatePaymentRequest {
	cm := pb.CaptureMethod_CAPTURE_METHOD_AUTOMATIC
	if r.CaptureMethod == CaptureManual {
		cm = pb.CaptureMethod_CAPTURE_METHOD_MANUAL
	}
	return &pb.CreatePaymentRequest{
		AttemptId: r.AttemptID, OrderId: r.OrderID, OrderNumber: r.OrderNumber, Amount: rpc.MoneyToPB(r.Amount),
		BuyerEmail: r.BuyerEmail, Locale: r.Locale, ReturnUrl: r.ReturnURL, NotifyUrl: r.NotifyURL,
		IdempotencyKey: r.IdempotencyKey, PaymentMethod: r.PaymentMethod, Metadata: r.Metadata,
		Description: r.Description, CaptureMethod: cm, PluginBaseUrl: r.PluginBaseURL, ExpiresAt: rpc.TS(r.ExpiresAt),
		BuyerIp: r.BuyerIP, BuyerUserAgent: r.BuyerUserAgent,
	}
}

func createReqFromPB(r *pb.CreatePaymentRequest) CreateRequest {
	cm := CaptureAutomatic
	if r.GetCaptureMethod() == pb.CaptureMethod_CAPTURE_METHOD_MANUAL {
		cm = CaptureManual
	}
	return CreateRequest{
		AttemptID: r.GetAttemptId(), OrderID: r.GetOrderId(), OrderNumber: r.GetOrderNumber(), Amount: rpc.MoneyFromPB(r.GetAmount()),
		BuyerEmail: r.GetBuyerEmail(), Locale: r.GetLocale(), ReturnURL: r.GetReturnUrl(), NotifyURL: r.GetNotifyUrl(),
		IdempotencyKey: r.GetIdempotencyKey(), PaymentMethod: r.GetPaymentMethod(), Metadata: r.GetMetadata(),
		Description: r.GetDescription(), CaptureMethod: cm, PluginBaseURL: r.GetPluginBaseUrl(), ExpiresAt: rpc.Time(r.GetExpiresAt()),
		BuyerIP: r.GetBuyerIp(), BuyerUserAgent: r.GetBuyerUserAgent(),
	}
}

func createResToPB(r CreateResult) *pb.CreatePaymentResponse {
	return &pb.CreatePaymentResponse{
		Status: statusToPB[r.Status], GatewayPaymentRef: r.GatewayRef, Action: actionToPBMsg(r.Action),
		DeclineCode: r.DeclineCode, BuyerMessage: r.BuyerMessage, MerchantMessage: r.MerchantMessage, Amount: rpc.MoneyToPB(r.Amount),
	}
}

func createResFromPB(r *pb.CreatePaymentResponse) CreateResult {
	return CreateResult{
		Status: statusFromPB(r.GetStatus()), GatewayRef: r.GetGatewayPaymentRef(), Action: actionFromPB(r.GetAction()),
		DeclineCode: r.GetDeclineCode(), BuyerMessage: r.GetBuyerMessage(), MerchantMessage: r.GetMerchantMessage(), Amount: rpc.MoneyFromPB(r.GetAmount()),
	}
}

func stateToPB(s PaymentState) *pb.GetPaymentResponse {
	return &pb.GetPaymentResponse{
		Status: statusToPB[s.Status], GatewayPaymentRef: s.GatewayRef, Amount: rpc.MoneyToPB(s.Amount),
		AmountAuthorized: s.Authorized, AmountCaptured: s.Captured, AmountRefunded: s.Refunded,
		DeclineCode: s.DeclineCode, MerchantMessage: s.MerchantMessage, Action: actionToPBMsg(s.Action),
	}
}

func stateFromPB(s *pb.GetPaymentResponse) PaymentState {
	return PaymentState{
		Status: statusFromPB(s.GetStatus()), GatewayRef: s.GetGatewayPaymentRef(), Amount: rpc.MoneyFromPB(s.GetAmount()),
		Authorized: s.GetAmountAuthorized(), Captured: s.GetAmountCaptured(), Refunded: s.GetAmountRefunded(),
		DeclineCode: s.GetDeclineCode(), MerchantMessage: s.GetMerchantMessage(), Action: actionFromPB(s.GetAction()),
	}
}

func refundResToPB(r RefundResult) *pb.RefundResponse {
	return &pb.RefundResponse{
		Status: refundToPB[r.Status], GatewayRefundRef: r.GatewayRefundRef, Amount: rpc.MoneyToPB(r.Amount),
		FailureCode: r.FailureCode, MerchantMessage: r.MerchantMessage, Instructions: r.Instructions,
	}
}

func refundResFromPB(r *pb.RefundResponse) RefundResult {
	return RefundResult{
		Status: refundStatusFromPB(r.GetStatus()), GatewayRefundRef: r.GetGatewayRefundRef(), Amount: rpc.MoneyFromPB(r.GetAmount()),
		FailureCode: r.GetFailureCode(), MerchantMessage: r.GetMerchantMessage(), Instructions: r.GetInstructions(),
	}
}

func eventToPB(e Event) *pb.PaymentEvent {
	return &pb.PaymentEvent{
		GatewayEventId: e.ID, Type: e.Type, AttemptId: e.AttemptID, GatewayPaymentRef: e.GatewayRef,
		RefundId: e.RefundID, GatewayRefundRef: e.GatewayRefundRef, Amount: rpc.MoneyToPB(e.Amount),
		OccurredAt: rpc.TS(e.OccurredAt), DeclineCode: e.DeclineCode, MerchantMessage: e.MerchantMessage,
	}
}

func eventFromPB(e *pb.PaymentEvent) Event {
	return Event{
		ID: e.GetGatewayEventId(), Type: e.GetType(), AttemptID: e.GetAttemptId(), GatewayRef: e.GetGatewayPaymentRef(),
		RefundID: e.GetRefundId(), GatewayRefundRef: e.GetGatewayRefundRef(), Amount: rpc.MoneyFromPB(e.GetAmount()),
		OccurredAt: rpc.Time(e.GetOccurredAt()), DeclineCode: e.GetDeclineCode(), MerchantMessage: e.GetMerchantMessage(),
	}
}

func webhookResToPB(r WebhookResult) *pb.HandleWebhookResponse {
	out := &pb.HandleWebhookResponse{Response: rpc.HTTPResponseToPB(r.Response)}
	for _, e := range r.Events {
		out.Events = append(out.Events, eventToPB(e))
	}
	if r.Rejection != nil {
		out.Rejection = &pb.WebhookRejection{Reason: rejectToPB[r.Rejection.Reason], Message: r.Rejection.Message}
	}
	return out
}

func webhookResFromPB(r *pb.HandleWebhookResponse) WebhookResult {
	out := WebhookResult{Response: rpc.HTTPResponseFromPB(r.GetResponse())}
	for _, e := range r.GetEvents() {
		out.Events = append(out.Events, eventFromPB(e))
	}
	if rj := r.GetRejection(); rj != nil {
		out.Rejection = &Rejection{Reason: rejectFromPB(rj.GetReason()), Message: rj.GetMessage()}
	}
	return out
}

func txToPB(t Transaction) *pb.Transaction {
	return &pb.Transaction{
		GatewayTransactionId: t.ID, Type: t.Type, AttemptId: t.AttemptID, GatewayPaymentRef: t.GatewayRef,
		GatewayRefundRef: t.GatewayRefundRef, Amount: rpc.MoneyToPB(t.Amount), Fee: rpc.MoneyToPB(t.Fee), OccurredAt: rpc.TS(t.OccurredAt),
	}
}

func txFromPB(t *pb.Transaction) Transaction {
	return Transaction{
		ID: t.GetGatewayTransactionId(), Type: t.GetType(), AttemptID: t.GetAttemptId(), GatewayRef: t.GetGatewayPaymentRef(),
		GatewayRefundRef: t.GetGatewayRefundRef(), Amount: rpc.MoneyFromPB(t.GetAmount()), Fee: rpc.MoneyFromPB(t.GetFee()), OccurredAt: rpc.Time(t.GetOccurredAt()),
	}
}
