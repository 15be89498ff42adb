package resolver

import (
	"context"
	"fmt"

	gql "github.com/graph-gophers/graphql-go"

	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/payment"
)

// paymentPayload resolves the payloads that return a payment:
// PaymentCreatePayload, PaymentRefreshPayload, PaymentCapturePayload,
// PaymentVoidPayload, PaymentConfirmBankTransferPayload.
type paymentPayload struct {
	payment    *paymentResolver
	userErrors []*userError
}

func (p *paymentPayload) Payment() *paymentResolver { return p.payment }
func (p *paymentPayload) UserErrors() []*userError  { return p.userErrors }

// refused answers a mutation whose input the resolver refused before
// calling the service (a malformed amount, mismatched keys): the caller's
// refusal when they may not run op, else the problems as userErrors.
func (r *paymentRoot) refused(ctx context.Context, op string, err error) (*paymentPayload, error) {
	if perr := r.may(ctx, paymentOperations[op]); perr != nil {
		return nil, perr
	}
	ue, err := userErrors(err)
	return &paymentPayload{userErrors: ue}, err
}

// paymentDone finishes a mutation of one payment: a refused change
// becomes userErrors (field attemptId named paymentId, as the schema
// does), a done one the payload's payment as the caller sees it.
func (r *paymentRoot) paymentDone(ctx context.Context, a *payment.Attempt, err error, token string) (*paymentPayload, error) {
	if ue, err := userErrors(renameField(err, "attemptId", "paymentId")); err != nil || ue != nil {
		return &paymentPayload{userErrors: ue}, err
	}
	p, err := r.onePayment(ctx, a, token, "payment.")
	if err != nil {
		return nil, err
	}
	return &paymentPayload{payment: p}, nil
}

type paymentCreateInput struct {
	OrderID        *gql.ID
	Token          *string
	GatewayID      *string
	Method         *string
	ReturnURL      *string
	PaymentMethod  *string
	ManualCapture  *bool
	Locale         *string
	IdempotencyKey *string
}

// PaymentCreate resolves Mutation.paymentCreate.
func (r *paymentRoot) PaymentCreate(ctx context.Context, args struct{ Input paymentCreateInput }) (*paymentPayload, error) {
	const op = "Mutation.paymentCreate"
	svc, err := r.service(ctx, op)
	if err != nil {
		return nil, err
	}
	in := args.Input
	key, err := idempotencyKeyOf(ctx, in.IdempotencyKey)
	if err != nil {
		return r.refused(ctx, op, err)
	}
	a, err := svc.Create(ctx, payment.CreateInput{OrderID: idStr(in.OrderID), AccessToken: str(in.Token), GatewayID: str(in.GatewayID), Method: str(in.Method),
		ReturnURL: str(in.ReturnURL), PaymentMethod: str(in.PaymentMethod), ManualCapture: in.ManualCapture != nil && *in.ManualCapture,
		Locale: str(in.Locale), IdempotencyKey: key})
	return r.paymentDone(ctx, a, err, str(in.Token))
}

// PaymentRefresh resolves Mutation.paymentRefresh.
func (r *paymentRoot) PaymentRefresh(ctx context.Context, args struct {
	Input struct {
		ID    gql.ID
		Token *string
	}
}) (*paymentPayload, error) {
	svc, err := r.service(ctx, "Mutation.paymentRefresh")
	if err != nil {
		return nil, err
	}
	a, err := svc.Refresh(ctx, string(args.Input.ID), str(args.Input.Token))
	return r.paymentDone(ctx, a, renameField(err, "attemptId", "id"), str(args.Input.Token))
}

type paymentCaptureInput struct {
	PaymentID      gql.ID
	Amount         *MoneyInput
	IdempotencyKey *string
}

// PaymentCapture resolves Mutation.paymentCapture.
func (r *paymentRoot) PaymentCapture(ctx context.Context, args struct{ Input paymentCaptureInput }) (*paymentPayload, error) {
	const op = "Mutation.paymentCapture"
	svc, err := r.service(ctx, op)
	if err != nil {
		return nil, err
	}
	in := args.Input
	key, kerr := idempotencyKeyOf(ctx, in.IdempotencyKey)
	amount, merr := paymentMoney(in.Amount, "amount")
	if problems := joinProblems(kerr, merr); problems != nil {
		return r.refused(ctx, op, problems)
	}
	a, err := svc.Capture(ctx, payment.CaptureInput{AttemptID: string(in.PaymentID), Amount: amount, IdempotencyKey: key})
	return r.paymentDone(ctx, a, err, "")
}

// PaymentVoid resolves Mutation.paymentVoid.
func (r *paymentRoot) PaymentVoid(ctx context.Context, args struct {
	Input struct {
		PaymentID      gql.ID
		IdempotencyKey *string
	}
}) (*paymentPayload, error) {
	const op = "Mutation.paymentVoid"
	svc, err := r.service(ctx, op)
	if err != nil {
		return nil, err
	}
	key, err := idempotencyKeyOf(ctx, args.Input.IdempotencyKey)
	if err != nil {
		return r.refused(ctx, op, err)
	}
	a, err := svc.Void(ctx, payment.VoidInput{AttemptID: string(args.Input.PaymentID), IdempotencyKey: key})
	return r.paymentDone(ctx, a, err, "")
}

type paymentConfirmInput struct {
	OrderID        gql.ID
	PaymentID      *gql.ID
	Amount         MoneyInput
	IdempotencyKey *string
}

// PaymentConfirmBankTransfer resolves Mutation.paymentConfirmBankTransfer.
func (r *paymentRoot) PaymentConfirmBankTransfer(ctx context.Context, args struct{ Input paymentConfirmInput }) (*paymentPayload, error) {
	const op = "Mutation.paymentConfirmBankTransfer"
	svc, err := r.service(ctx, op)
	if err != nil {
		return nil, err
	}
	in := args.Input
	key, kerr := idempotencyKeyOf(ctx, in.IdempotencyKey)
	amount, merr := paymentMoney(&in.Amount, "amount")
	if problems := joinProblems(kerr, merr); problems != nil {
		return r.refused(ctx, op, problems)
	}
	a, err := svc.ConfirmBankTransfer(ctx, payment.ConfirmInput{OrderID: string(in.OrderID), AttemptID: idStr(in.PaymentID),
		Amount: *amount, IdempotencyKey: key})
	return r.paymentDone(ctx, a, err, "")
}

type orderRefundLineInput struct {
	LineID   gql.ID
	Quantity int32
}

type orderRefundInput struct {
	OrderID        gql.ID
	Amount         *MoneyInput
	Shipping       *MoneyInput
	Lines          *[]orderRefundLineInput
	Reason         *string
	IdempotencyKey *string
}

// refundPayload resolves OrderRefundPayload: refunds are the parts of
// the refund, one per payment it came from (empty when refused).
type refundPayload struct {
	refunds    []*refundResolver
	userErrors []*userError
}

// Refund is the first part, as before refunds were split.
func (p *refundPayload) Refund() *refundResolver {
	if len(p.refunds) == 0 {
		return nil
	}
	return p.refunds[0]
}

// Refunds is every part, first to last; empty when refused.
func (p *refundPayload) Refunds() []*refundResolver {
	if p.refunds == nil {
		return []*refundResolver{}
	}
	return p.refunds
}

func (p *refundPayload) UserErrors() []*userError { return p.userErrors }

// OrderRefund resolves Mutation.orderRefund.
func (r *paymentRoot) OrderRefund(ctx context.Context, args struct{ Input orderRefundInput }) (*refundPayload, error) {
	const op = "Mutation.orderRefund"
	svc, err := r.service(ctx, op)
	if err != nil {
		return nil, err
	}
	in := args.Input
	key, kerr := idempotencyKeyOf(ctx, in.IdempotencyKey)
	amount, aerr := paymentMoney(in.Amount, "amount")
	shipping, serr := paymentMoney(in.Shipping, "shipping")
	var lines []payment.RefundLineInput
	var lerr error
	if in.Lines != nil {
		if len(*in.Lines) > MaxRefundLines {
			lerr = errs.Invalid("lines", CodeTooManyLines, fmt.Sprintf("at most %d lines a refund", MaxRefundLines))
		} else {
			for _, l := range *in.Lines {
				lines = append(lines, payment.RefundLineInput{LineID: string(l.LineID), Quantity: int64(l.Quantity)})
			}
		}
	}
	if problems := joinProblems(kerr, aerr, serr, lerr); problems != nil {
		p, err := r.refused(ctx, op, problems)
		if err != nil {
			return nil, err
		}
		return &refundPayload{userErrors: p.userErrors}, nil
	}
	refs, err := svc.Refund(ctx, payment.RefundInput{OrderID: string(in.OrderID), Amount: amount, Shipping: shipping,
		Lines: lines, Reason: str(in.Reason), IdempotencyKey: key})
	if ue, err := userErrors(err); err != nil || ue != nil {
		return &refundPayload{userErrors: ue}, err
	}
	return &refundPayload{refunds: refundsOf(refs, true)}, nil
}

// joinProblems gathers the input problems the resolver found into one
// error (nil when there are none).
func joinProblems(errList ...error) error {
	var out errs.List
	for _, err := range errList {
		out = append(out, errs.All(err)...)
	}
	switch len(out) {
	case 0:
		return nil
	case 1:
		return out[0]
	}
	return out
}

// paymentEventResolvePayload is PaymentEventResolvePayload.
type paymentEventResolvePayload struct {
	event      *payment.EventRecord
	userErrors []*userError
}

func (p *paymentEventResolvePayload) Event() *paymentEventResolver {
	if p.event == nil {
		return nil
	}
	return &paymentEventResolver{e: p.event}
}

func (p *paymentEventResolvePayload) UserErrors() []*userError { return p.userErrors }

// PaymentEventResolve resolves Mutation.paymentEventResolve.
func (r *paymentRoot) PaymentEventResolve(ctx context.Context, args struct {
	Input struct {
		ID   gql.ID
		Note *string
	}
}) (*paymentEventResolvePayload, error) {
	const op = "Mutation.paymentEventResolve"
	svc, err := r.service(ctx, op)
	if err != nil {
		return nil, err
	}
	e, err := svc.ResolveFlag(ctx, payment.ResolveFlagInput{EventID: string(args.Input.ID), Note: str(args.Input.Note)})
	if ue, err := userErrors(err); err != nil || ue != nil {
		return &paymentEventResolvePayload{userErrors: ue}, err
	}
	return &paymentEventResolvePayload{event: e}, nil
}
