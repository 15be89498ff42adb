import { useCallback, useEffect, useState, type FormEvent, type ReactNode } from "react";
import { Link } from "wouter";
import { check, gql, idempotencyKey } from "../api/client";
import type { Money, Order, OrderLine, Payment, PaymentEvent, PaymentLedgerEntry, Refund, Shipment, TimelineEntry, UserError } from "../api/schema";
import { formatDate, formatMoney, useI18n, type Key, type LabelGroup } from "../i18n";
import { useSession } from "../session";
import { Badge, Button, Card, EmptyState, ErrorBanner, Field, Spinner, Table } from "../ui";

type Detail = Omit<Order, "payments" | "paymentLedger" | "refunds"> & {
  payments?: Array<Omit<Payment, "order">>;
  paymentLedger?: PaymentLedgerEntry[];
  refunds?: Refund[];
};

const money = "{ amount currencyCode }";

/** The order query, asking only for what the viewer may read. */
function orderQuery(payments: boolean, refunds: boolean): string {
  return `query Order($id: ID!) { order(id: $id) {
    id number email customerId currencyCode status paymentStatus fulfillmentStatus createdAt
    subtotal ${money} shipping ${money} tax ${money} taxIncluded discountTotal ${money} total ${money}
    discounts { label amount ${money} }
    shippingMethodName
    shippingAddress { firstName lastName company line1 line2 city province postalCode countryCode phone }
    lines { id sku productTitle variantTitle quantity quantityShipped unitPrice ${money} total ${money} }
    shipments { id carrier trackingNumber lines { lineId quantity } deliveredAt createdAt }
    timeline { id kind from to actorKind reason createdAt }
    ${payments ? `amountPaid ${money} amountRefunded ${money} amountOutstanding ${money}
    payments { id gatewayId state amount ${money} authorized ${money} captured ${money} refunded ${money} manualCapture
      action { type } declineCode merchantMessage createdAt
      events { id type source outcome flag amount ${money} detail receivedAt } }
    paymentLedger { id kind amount ${money} gatewayId createdAt }` : ""}
    ${refunds ? `refunds { id state amount ${money} reason createdAt }` : ""}
  } }`;
}

// The enum whose values a timeline entry's from and to are, by the entry's
// kind; the states of other kinds read as they come.
const timelineStates: Record<string, LabelGroup> = {
  PLACED: "orderStatus", STATUS: "orderStatus",
  PAYMENT_STATUS: "paymentStatus",
  FULFILLMENT_STATUS: "fulfillmentStatus", SHIPMENT: "fulfillmentStatus",
};

/**
 * The reasons Kassa writes on the moves it makes itself (core/payment,
 * core/order; TimelineEntry.reason in the schema lists them), shown in
 * the admin's language. Only entries whose actor is SYSTEM are read this
 * way: a staff member's words are shown as typed.
 */
const systemReasons: [RegExp, Key][] = [
  [/^payment (\S+) captured$/, "systemReason.payment.captured"],
  [/^payment (\S+) authorized$/, "systemReason.payment.authorized"],
  [/^payment (\S+) failed$/, "systemReason.payment.failed"],
  [/^payment (\S+) cancelled$/, "systemReason.payment.cancelled"],
  [/^refund (\S+) succeeded$/, "systemReason.refundSucceeded"],
  [/^paid before it was cancelled$/, "systemReason.paidBeforeCancel"],
  [/^payment deadline passed$/, "systemReason.deadline"],
];

function systemReason(reason: string, t: (key: Key, vars?: Record<string, string>) => string): string {
  for (const [re, key] of systemReasons) {
    const m = re.exec(reason);
    if (m) return t(key, { id: m[1] ?? "" });
  }
  return reason;
}

const CAPTURE = `mutation($input: PaymentCaptureInput!) { paymentCapture(input: $input) { payment { id } userErrors { code field message } } }`;
const REFUND = `mutation($input: OrderRefundInput!) { orderRefund(input: $input) { refunds { id state } userErrors { code field message } } }`;
const CONFIRM = `mutation($input: PaymentConfirmBankTransferInput!) { paymentConfirmBankTransfer(input: $input) { payment { id } userErrors { code field message } } }`;
const CANCEL = `mutation($input: OrderCancelInput!) { orderCancel(input: $input) { order { id } userErrors { code field message } } }`;
const SHIP = `mutation($input: OrderShipInput!) { orderShip(input: $input) { shipment { id } userErrors { code field message } } }`;
const DELIVERED = `mutation($input: OrderMarkDeliveredInput!) { orderMarkDelivered(input: $input) { order { id } userErrors { code field message } } }`;
const COMPLETE = `mutation($input: OrderCompleteInput!) { orderComplete(input: $input) { order { id } userErrors { code field message } } }`;

export function OrderDetail({ id }: { id: string }) {
  const { t, label, lang } = useI18n();
  const { can } = useSession();
  const [order, setOrder] = useState<Detail | null | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [notice, setNotice] = useState("");
  const [open, setOpen] = useState<"" | "refund" | "transfer" | "cancel" | "ship">("");

  const load = useCallback(async () => {
    try {
      const d = await gql<{ order: Detail | null }>(orderQuery(can("payment:read"), can("refund:read")), { id });
      setOrder(d.order);
      setError(null);
    } catch (e) {
      setError(e);
    }
  }, [id, can]);
  useEffect(() => {
    void load();
  }, [load]);

  async function act(run: () => Promise<string | void>) {
    setActionError(null);
    setNotice("");
    try {
      const msg = await run();
      if (msg) setNotice(msg);
      setOpen("");
      await load();
    } catch (e) {
      setActionError(e);
    }
  }

  if (error) return <div className="page"><ErrorBanner error={error} onRetry={() => void load()} retryLabel={t("common.retry")} /></div>;
  if (order === undefined) return <div className="page"><Spinner label={t("common.loading")} /></div>;
  if (order === null) return <div className="page"><EmptyState title={t("order.notFound")} /></div>;

  const paid = Number(order.amountPaid?.amount ?? "0");
  const authorized = (order.payments ?? []).filter((p) => p.state === "AUTHORIZED");
  const awaitingTransfer = (order.payments ?? []).find((p) => p.state === "PENDING" && p.action?.type === "INSTRUCTIONS");
  const canRefund = can("refund:write") && paid > 0;
  const canCapture = can("payment:write") && authorized.length > 0;
  const canConfirm = can("payment:write") && !!awaitingTransfer && order.status === "OPEN";
  const canCancel = can("order:write") && order.status === "OPEN" && order.fulfillmentStatus === "UNFULFILLED" &&
    ["PENDING", "FAILED", "VOIDED"].includes(order.paymentStatus);
  const canShip = can("order:write") && order.status === "OPEN" && order.lines.some((l) => l.quantity > l.quantityShipped);
  const canDeliver = can("order:write") && order.status === "OPEN" && order.fulfillmentStatus === "FULFILLED";
  const canComplete = can("order:write") && order.status === "OPEN" && ["FULFILLED", "DELIVERED"].includes(order.fulfillmentStatus);
  const lineTitle = new Map(order.lines.map((l) => [l.id, [l.productTitle, l.variantTitle].filter(Boolean).join(" · ")]));

  return (
    <div className="page">
      <div className="page-header">
        <div>
          <Link href="/orders" className="back">← {t("nav.orders")}</Link>
          <h1 id="order-number">{order.number}</h1>
          <div className="badges">
            <Badge value={order.status} label={label("orderStatus", order.status)} />
            <span id="payment-status"><Badge value={order.paymentStatus} label={label("paymentStatus", order.paymentStatus)} /></span>
            <Badge value={order.fulfillmentStatus} label={label("fulfillmentStatus", order.fulfillmentStatus)} />
            <span className="muted">{formatDate(order.createdAt, lang)}</span>
          </div>
        </div>
        <div className="actions">
          {canCapture && authorized.map((p) => (
            <Button key={p.id} id="capture" variant="primary" onClick={() => void act(async () => {
              const d = await gql<{ paymentCapture: { userErrors: UserError[] } }>(CAPTURE, { input: { paymentId: p.id, idempotencyKey: idempotencyKey() } });
              check(d.paymentCapture);
            })}>{t("order.capture")} {formatMoney(p.authorized, lang)}</Button>
          ))}
          {canShip && <Button id="ship" variant="primary" onClick={() => setOpen("ship")}>{t("orderShip.ship")}</Button>}
          {canDeliver && <Button id="mark-delivered" onClick={() => void act(async () => {
            const d = await gql<{ orderMarkDelivered: { userErrors: UserError[] } }>(DELIVERED, { input: { id: order.id } });
            check(d.orderMarkDelivered);
            return t("orderShip.deliveredDone");
          })}>{t("orderShip.markDelivered")}</Button>}
          {canComplete && <Button id="complete-order" onClick={() => void act(async () => {
            const d = await gql<{ orderComplete: { userErrors: UserError[] } }>(COMPLETE, { input: { id: order.id } });
            check(d.orderComplete);
            return t("orderShip.completeDone");
          })}>{t("orderShip.complete")}</Button>}
          {canConfirm && <Button id="confirm-transfer" onClick={() => setOpen("transfer")}>{t("order.confirmTransfer")}</Button>}
          {canRefund && <Button id="refund" onClick={() => setOpen("refund")}>{t("order.refund")}</Button>}
          {canCancel && <Button id="cancel-order" variant="critical" onClick={() => setOpen("cancel")}>{t("order.cancel")}</Button>}
        </div>
      </div>
      {notice && <div className="banner banner-success" role="status">{notice}</div>}
      <ErrorBanner error={actionError} />
      {open === "refund" && (
        <AmountForm id="refund-form" currency={order.currencyCode} amountLabel={t("order.refundAmount")} reasonLabel={t("order.refundReason")}
          submit={t("order.refundSubmit")} cancel={t("common.cancel")} onCancel={() => setOpen("")}
          onSubmit={(amount, reason) => act(async () => {
            const d = await gql<{ orderRefund: { refunds: Refund[]; userErrors: UserError[] } }>(REFUND, {
              input: { orderId: order.id, amount: { amount, currencyCode: order.currencyCode }, reason: reason || null, idempotencyKey: idempotencyKey() },
            });
            check(d.orderRefund);
            // A refund split across the order's payments has a part per payment.
            const states = d.orderRefund.refunds.map((r) => label("refundState", r.state));
            return t("order.refundDone", { state: states.join(", ") });
          })} />
      )}
      {open === "transfer" && awaitingTransfer && (
        <AmountForm id="transfer-form" currency={order.currencyCode} amountLabel={t("order.transferAmount")} initial={awaitingTransfer.amount.amount}
          submit={t("order.confirmTransfer")} cancel={t("common.cancel")} onCancel={() => setOpen("")}
          onSubmit={(amount) => act(async () => {
            const d = await gql<{ paymentConfirmBankTransfer: { userErrors: UserError[] } }>(CONFIRM, {
              input: { orderId: order.id, paymentId: awaitingTransfer.id, amount: { amount, currencyCode: order.currencyCode }, idempotencyKey: idempotencyKey() },
            });
            check(d.paymentConfirmBankTransfer);
          })} />
      )}
      {open === "ship" && (
        <ShipForm lines={order.lines} onCancel={() => setOpen("")}
          onSubmit={(lines, carrier, trackingNumber) => act(async () => {
            const d = await gql<{ orderShip: { userErrors: UserError[] } }>(SHIP, {
              input: { orderId: order.id, lines, carrier: carrier || null, trackingNumber: trackingNumber || null },
            });
            check(d.orderShip);
            return t("orderShip.done");
          })} />
      )}
      {open === "cancel" && (
        <ReasonForm label={t("order.cancelReason")} submit={t("order.cancelSubmit")} cancel={t("common.cancel")} onCancel={() => setOpen("")}
          onSubmit={(reason) => act(async () => {
            const d = await gql<{ orderCancel: { userErrors: UserError[] } }>(CANCEL, { input: { id: order.id, reason } });
            check(d.orderCancel);
          })} />
      )}
      <div className="columns">
        <div className="main-col">
          <Card title={t("order.lines")}>
            <Table rows={order.lines} rowKey={(l) => l.id} columns={[
              { header: t("order.lines"), cell: (l) => <><div>{l.productTitle}</div><div className="muted">{l.variantTitle}</div></> },
              { header: t("order.sku"), cell: (l) => <code>{l.sku}</code> },
              { header: t("order.unitPrice"), cell: (l) => formatMoney(l.unitPrice, lang), align: "end" },
              { header: t("order.quantity"), cell: (l) => l.quantity, align: "end" },
              { header: t("orderShip.shippedColumn"), cell: (l) => l.quantityShipped, align: "end" },
              { header: t("order.total"), cell: (l) => formatMoney(l.total, lang), align: "end" },
            ]} />
            <dl className="totals">
              <Row label={t("order.subtotal")} value={order.subtotal} />
              {order.discounts.map((d, i) => <Row key={i} label={d.label || t("order.discounts")} value={d.amount} />)}
              <Row label={`${t("order.shipping")}${order.shippingMethodName ? " · " + order.shippingMethodName : ""}`} value={order.shipping} />
              <Row label={order.taxIncluded ? t("order.taxIncluded") : t("order.tax")} value={order.tax} />
              <Row label={t("order.total")} value={order.total} strong />
              {order.amountPaid && <Row label={t("order.paid")} value={order.amountPaid} />}
              {order.amountRefunded && Number(order.amountRefunded.amount) > 0 && <Row label={t("order.refunded")} value={order.amountRefunded} />}
              {order.amountOutstanding && Number(order.amountOutstanding.amount) > 0 && <Row label={t("order.outstanding")} value={order.amountOutstanding} strong />}
            </dl>
          </Card>
          <Card title={t("orderShip.shipments")}>
            {order.shipments.length === 0 ? <p className="muted">{t("orderShip.none")}</p> : (
              <ul className="shipments" id="shipments">
                {order.shipments.map((s: Shipment) => (
                  <li key={s.id}>
                    <div>
                      <strong>{s.carrier || t("orderShip.noCarrier")}</strong>
                      {" · "}
                      {s.trackingNumber ? <code className="tracking">{s.trackingNumber}</code> : <span className="muted">{t("orderShip.noTracking")}</span>}
                    </div>
                    <div className="muted">
                      {formatDate(s.createdAt, lang)}
                      {s.deliveredAt && <> · {t("orderShip.deliveredAt", { date: formatDate(s.deliveredAt, lang) })}</>}
                    </div>
                    <ul className="shipment-lines">
                      {s.lines.map((l) => <li key={l.lineId}>{l.quantity} × {lineTitle.get(l.lineId) ?? l.lineId}</li>)}
                    </ul>
                  </li>
                ))}
              </ul>
            )}
          </Card>
          {order.payments && (
            <Card title={t("order.payments")}>
              {order.payments.length === 0 ? <EmptyState title={t("order.noPayments")} /> : order.payments.map((p) => (
                <div key={p.id} className="payment">
                  <div className="payment-head">
                    <strong>{p.gatewayId}</strong> <Badge value={p.state} label={label("paymentState", p.state)} /> <code className="muted">{p.id}</code>
                    <span className="spacer" />
                    {Number(p.captured.amount) > 0 && Number(p.captured.amount) !== Number(p.amount.amount)
                      ? t("order.capturedOf", { captured: formatMoney(p.captured, lang), amount: formatMoney(p.amount, lang) })
                      : formatMoney(p.amount, lang)}
                  </div>
                  {(p.declineCode || p.merchantMessage) && <p className="muted">{[p.declineCode, p.merchantMessage].filter(Boolean).join(" — ")}</p>}
                  <h3>{t("order.events")}</h3>
                  {p.events.length === 0 ? <p className="muted">{t("order.noEvents")}</p> : (
                    <Table<PaymentEvent> rows={p.events} rowKey={(e) => e.id} columns={[
                      { header: "", cell: (e) => <><code>{e.type}</code><div className="muted">{label("paymentEventSource", e.source)}</div></> },
                      { header: "", cell: (e) => <span className="wrap"><Badge value={e.outcome} label={label("paymentEventOutcome", e.outcome)} />{e.flag && <> <Badge value="FAILED" label={label("paymentEventFlag", e.flag)} /></>}</span> },
                      { header: "", cell: (e) => formatMoney(e.amount, lang), align: "end" },
                      { header: "", cell: (e) => formatDate(e.receivedAt, lang) },
                    ]} />
                  )}
                </div>
              ))}
            </Card>
          )}
          {order.paymentLedger && (
            <Card title={t("order.ledger")}>
              {order.paymentLedger.length === 0 ? <p className="muted">{t("order.noLedger")}</p> : (
                <Table<PaymentLedgerEntry> rows={order.paymentLedger} rowKey={(e) => e.id} columns={[
                  { header: "", cell: (e) => <Badge value={e.kind === "CAPTURE" ? "CAPTURED" : e.kind} label={label("paymentLedgerKind", e.kind)} /> },
                  { header: "", cell: (e) => e.gatewayId },
                  { header: "", cell: (e) => formatMoney(e.amount, lang), align: "end" },
                  { header: "", cell: (e) => formatDate(e.createdAt, lang) },
                ]} />
              )}
            </Card>
          )}
          {order.refunds && order.refunds.length > 0 && (
            <Card title={t("order.refunds")}>
              <Table<Refund> rows={order.refunds} rowKey={(r) => r.id} columns={[
                { header: "", cell: (r) => <Badge value={r.state} label={label("refundState", r.state)} /> },
                { header: "", cell: (r) => (r.reason === "refunded at the gateway" ? t("systemReason.refundedAtGateway") : r.reason ?? "") },
                { header: "", cell: (r) => formatMoney(r.amount, lang), align: "end" },
                { header: "", cell: (r) => formatDate(r.createdAt, lang) },
              ]} />
            </Card>
          )}
        </div>
        <div className="side-col">
          <Card title={t("order.customer")}>
            <p>{order.email}</p>
            {order.customerId
              ? (can("customer:read") ? <Link href={"/customers/" + order.customerId} id="order-customer">{t("order.customerAccount")}</Link> : <p className="muted">{t("order.customerAccount")}</p>)
              : <p className="muted">{t("order.guest")}</p>}
          </Card>
          <Card title={t("order.shipTo")}>
            <Address a={order.shippingAddress} />
          </Card>
          <Card title={t("order.timeline")}>
            <ol className="timeline" id="timeline">
              {order.timeline.slice().reverse().map((e: TimelineEntry) => {
                // A state within the entry's sentence: lower case in English (authorized → paid).
                const state = (s: string) => label(timelineStates[e.kind], s).toLocaleLowerCase(lang);
                return (
                  <li key={e.id}>
                    <div>
                      <strong>{label("timelineKind", e.kind)}</strong>
                      {e.from && e.from !== e.to && <> {state(e.from)}</>}
                      {e.to && <> → {state(e.to)}</>}
                    </div>
                    {e.reason && <div className="timeline-reason">{e.actorKind === "SYSTEM" ? systemReason(e.reason, t) : e.reason}</div>}
                    <div className="muted">{formatDate(e.createdAt, lang)} · {label("actorKind", e.actorKind)}</div>
                  </li>
                );
              })}
            </ol>
          </Card>
        </div>
      </div>
    </div>
  );
}

function Row({ label, value, strong }: { label: ReactNode; value: Money; strong?: boolean }) {
  const { lang } = useI18n();
  return (
    <div className={strong ? "total-row strong" : "total-row"}>
      <dt>{label}</dt>
      <dd>{formatMoney(value, lang)}</dd>
    </div>
  );
}

// Where a name is written family name first, without a space.
const familyNameFirst = new Set(["CN", "TW", "HK", "MO", "JP", "KR"]);

function Address({ a }: { a: Order["shippingAddress"] }) {
  // 王芳, but Anna Müller even on a Chinese address: Latin names keep their
  // order and their space.
  const latin = /[A-Za-z\u00C0-\u024F]/.test(a.firstName + a.lastName);
  const lines = [
    familyNameFirst.has(a.countryCode) && !latin ? `${a.lastName}${a.firstName}` : [a.firstName, a.lastName].filter(Boolean).join(" "), a.company, a.line1, a.line2,
    [a.postalCode, a.city, a.province].filter(Boolean).join(" "), a.countryCode, a.phone,
  ].filter(Boolean);
  return <address>{lines.map((l, i) => <div key={i}>{l}</div>)}</address>;
}

function AmountForm(props: {
  id: string; currency: string; amountLabel: string; reasonLabel?: string; initial?: string; submit: string; cancel: string;
  onSubmit(amount: string, reason: string): Promise<void>; onCancel(): void;
}) {
  const [amount, setAmount] = useState(props.initial ?? "");
  const [reason, setReason] = useState("");
  function submit(e: FormEvent) {
    e.preventDefault();
    void props.onSubmit(amount.trim(), reason.trim());
  }
  return (
    <Card>
      <form className="inline-form" id={props.id} onSubmit={submit}>
        <Field id={props.id + "-amount"} label={`${props.amountLabel} (${props.currency})`} inputMode="decimal" required pattern="[0-9]+([.][0-9]+)?" value={amount} onChange={(e) => setAmount(e.target.value)} />
        {props.reasonLabel && <Field id={props.id + "-reason"} label={props.reasonLabel} maxLength={500} value={reason} onChange={(e) => setReason(e.target.value)} />}
        <Button type="submit" variant="primary">{props.submit}</Button>
        <Button variant="plain" onClick={props.onCancel}>{props.cancel}</Button>
      </form>
    </Card>
  );
}

/** ShipForm records a parcel: how many units of each line, carrier and tracking number. */
function ShipForm(props: {
  lines: OrderLine[];
  onSubmit(lines: { lineId: string; quantity: number }[], carrier: string, trackingNumber: string): Promise<void>;
  onCancel(): void;
}) {
  const { t } = useI18n();
  const open = props.lines.filter((l) => l.quantity > l.quantityShipped);
  const [qty, setQty] = useState<Record<string, string>>(() => Object.fromEntries(open.map((l) => [l.id, String(l.quantity - l.quantityShipped)])));
  const [carrier, setCarrier] = useState("");
  const [tracking, setTracking] = useState("");
  const [problem, setProblem] = useState("");
  function submit(e: FormEvent) {
    e.preventDefault();
    const lines = open
      .map((l) => ({ lineId: l.id, quantity: Number(qty[l.id] ?? "0") }))
      .filter((l) => Number.isInteger(l.quantity) && l.quantity > 0);
    if (lines.length === 0) {
      setProblem(t("orderShip.nothing"));
      return;
    }
    setProblem("");
    void props.onSubmit(lines, carrier.trim(), tracking.trim());
  }
  return (
    <Card title={t("orderShip.title")}>
      <form className="ship-form" id="ship-form" onSubmit={submit}>
        <div className="ship-lines">
          {open.map((l) => (
            <Field key={l.id} id={"ship-qty-" + l.id} type="number" min={0} max={l.quantity - l.quantityShipped} step={1}
              label={`${[l.productTitle, l.variantTitle].filter(Boolean).join(" · ")} (${t("orderShip.left", { n: String(l.quantity - l.quantityShipped) })})`}
              value={qty[l.id] ?? ""} onChange={(e) => setQty({ ...qty, [l.id]: e.target.value })} />
          ))}
        </div>
        <div className="inline-form">
          <Field id="ship-carrier" label={t("orderShip.carrier")} maxLength={100} value={carrier} onChange={(e) => setCarrier(e.target.value)} />
          <Field id="ship-tracking" label={t("orderShip.tracking")} maxLength={200} value={tracking} onChange={(e) => setTracking(e.target.value)} />
        </div>
        {problem && <p className="field-error" role="alert">{problem}</p>}
        <div className="inline-form">
          <Button type="submit" variant="primary">{t("orderShip.submit")}</Button>
          <Button variant="plain" onClick={props.onCancel}>{t("common.cancel")}</Button>
        </div>
      </form>
    </Card>
  );
}

function ReasonForm(props: { label: string; submit: string; cancel: string; onSubmit(reason: string): Promise<void>; onCancel(): void }) {
  const [reason, setReason] = useState("");
  return (
    <Card>
      <form className="inline-form" onSubmit={(e) => { e.preventDefault(); void props.onSubmit(reason.trim()); }}>
        <Field id="cancel-reason" label={props.label} required maxLength={1000} value={reason} onChange={(e) => setReason(e.target.value)} />
        <Button type="submit" variant="critical">{props.submit}</Button>
        <Button variant="plain" onClick={props.onCancel}>{props.cancel}</Button>
      </form>
    </Card>
  );
}
