import { useCallback, useEffect, useState, type FormEvent, type ReactNode } from "react";
import { Link } from "wouter";
import { check, gql, idempotencyKey } from "../api/client";
import type { Money, Order, OrderLine, Payment, PaymentEvent, PaymentLedgerEntry, Refund, Shipment, TimelineEntry, UserError } from "../api/schema";
import { formatDate, formatMoney, useI18n, type Key, type LabelGroup } from "../i18n";
import { useSession } from "../session";
import { addressLines, Badge, Button, Card, EmptyState, ErrorBanner, Field, Spinner, Table } from "../ui";

type Detail = Omit<Order, "payments" | "paymentLedger" | "refunds"> & {
  payments?: Array<Omit<Payment, "order">>;
  paymentLedger?: PaymentLedgerEntry[];
  refunds?: Refund[];
};

const money = "{ amount currencyCode }";
const refundFields = `id state amount ${money} shipping ${money} lines { lineId quantity amount ${money} }`;

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
      events { id type source outcome flag amount ${money} detail receivedAt resolvedAt resolutionNote } }
    paymentLedger { id kind amount ${money} gatewayId createdAt }` : ""}
    ${refunds ? `refunds { ${refundFields} reason createdAt }` : ""}
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
const REFUND = `mutation($input: OrderRefundInput!) { orderRefund(input: $input) { refunds { ${refundFields} } userErrors { code field message } } }`;
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
  // What the last refund made, as the server computed it (the API has no
  // preview: the amount of refunded lines is the server's to work out).
  const [refunded, setRefunded] = useState<Refund[] | null>(null);

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
    setRefunded(null);
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
      {refunded && <RefundResult refunds={refunded} lineTitle={lineTitle} />}
      {open === "refund" && (
        <RefundForm order={order} onCancel={() => setOpen("")}
          onSubmit={(input) => act(async () => {
            const d = await gql<{ orderRefund: { refunds: Refund[]; userErrors: UserError[] } }>(REFUND, {
              input: { orderId: order.id, ...input, idempotencyKey: idempotencyKey() },
            });
            // A refund split across the order's payments has a part per payment.
            setRefunded(check(d.orderRefund).refunds);
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
                      { header: "", cell: (e) => <span className="wrap"><Badge value={e.outcome} label={label("paymentEventOutcome", e.outcome)} />{e.flag && <> <Badge value={e.resolvedAt ? "VOIDED" : "FAILED"} label={label("paymentEventFlag", e.flag)} /></>}{e.resolvedAt && <div className="muted">{e.resolutionNote ? t("order.flagResolvedNote", { at: formatDate(e.resolvedAt, lang), note: e.resolutionNote }) : t("order.flagResolved", { at: formatDate(e.resolvedAt, lang) })}</div>}</span> },
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
                { header: "", cell: (r) => (
                  <span className="wrap">
                    {r.reason === "refunded at the gateway" ? t("systemReason.refundedAtGateway") : r.reason ?? ""}
                    <RefundParts refund={r} lineTitle={lineTitle} />
                  </span>
                ) },
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

function Address({ a }: { a: Order["shippingAddress"] }) {
  const { lang } = useI18n();
  return <address>{addressLines(a, lang).map((l, i) => <div key={i}>{l}</div>)}</address>;
}

/** A refund's lines and shipping (what it gave back besides an amount), one a line. */
function RefundParts({ refund, lineTitle }: { refund: Pick<Refund, "lines" | "shipping">; lineTitle: Map<string, string> }) {
  const { t, lang } = useI18n();
  const shipping = refund.shipping && Number(refund.shipping.amount) > 0;
  if (refund.lines.length === 0 && !shipping) return null;
  return (
    <ul className="refund-parts">
      {refund.lines.map((l) => <li key={l.lineId}>{l.quantity} × {lineTitle.get(l.lineId) ?? l.lineId} · {formatMoney(l.amount, lang)}</li>)}
      {shipping && <li>{t("order.shipping")} · {formatMoney(refund.shipping, lang)}</li>}
    </ul>
  );
}

/** What a refund just made, part by part, as the server computed and its gateway left it. */
function RefundResult({ refunds, lineTitle }: { refunds: Refund[]; lineTitle: Map<string, string> }) {
  const { t, label, lang } = useI18n();
  return (
    <div className="banner banner-success" role="status" id="refund-result">
      {refunds.map((r) => (
        <div key={r.id} className="refund-result-part">
          <p>{t("order.refundMade", { amount: formatMoney(r.amount, lang), state: label("refundState", r.state) })}</p>
          <RefundParts refund={r} lineTitle={lineTitle} />
        </div>
      ))}
    </div>
  );
}

/** A decimal amount in minor units (the API writes exactly the currency's digits). */
function minorUnits(amount: string): number {
  return Number(amount.replace(".", ""));
}

/** Minor units back to the API's decimal, with digits decimals. */
function decimal(units: number, digits: number): string {
  const s = String(units).padStart(digits + 1, "0");
  return digits === 0 ? s : `${s.slice(0, -digits)}.${s.slice(-digits)}`;
}

/** What orderRefund takes besides the order and the idempotency key. */
type RefundInput = {
  amount?: { amount: string; currencyCode: string };
  lines?: { lineId: string; quantity: number }[];
  shipping?: { amount: string; currencyCode: string };
  reason: string | null;
};

/**
 * Refunds an amount, or units of lines (and the shipping left), whose
 * amount the server works out: each unit's share of what its line cost.
 * The units and shipping offered are what refunds not FAILED left; the
 * server judges again (another staff member may refund meanwhile).
 */
function RefundForm({ order, onSubmit, onCancel }: { order: Detail; onSubmit(input: RefundInput): Promise<void>; onCancel(): void }) {
  const { t, lang } = useI18n();
  const [mode, setMode] = useState<"amount" | "lines">("amount");
  const [amount, setAmount] = useState("");
  const [reason, setReason] = useState("");
  const [qty, setQty] = useState<Record<string, string>>({});
  const [withShipping, setWithShipping] = useState(false);
  const [problem, setProblem] = useState("");
  const kept = (order.refunds ?? []).filter((r) => r.state !== "FAILED");
  const left = (l: OrderLine) => l.quantity - kept.flatMap((r) => r.lines).filter((x) => x.lineId === l.id).reduce((n, x) => n + x.quantity, 0);
  const digits = order.shipping.amount.split(".")[1]?.length ?? 0;
  const shippingLeft = minorUnits(order.shipping.amount) - kept.reduce((n, r) => n + minorUnits(r.shipping.amount), 0);
  const shippingLeftMoney = { amount: decimal(Math.max(shippingLeft, 0), digits), currencyCode: order.currencyCode };

  function submit(e: FormEvent) {
    e.preventDefault();
    const why = reason.trim() || null;
    if (mode === "amount") {
      void onSubmit({ amount: { amount: amount.trim(), currencyCode: order.currencyCode }, reason: why });
      return;
    }
    const lines = [];
    for (const l of order.lines) {
      const typed = (qty[l.id] ?? "").trim();
      if (typed === "" || typed === "0") continue;
      const n = Number(typed);
      if (!Number.isInteger(n) || n < 0) {
        setProblem(t("refund.wholeUnits"));
        return;
      }
      lines.push({ lineId: l.id, quantity: n });
    }
    const shipping = withShipping && shippingLeft > 0;
    if (lines.length === 0 && !shipping) {
      setProblem(t("refund.nothing"));
      return;
    }
    setProblem("");
    void onSubmit({ lines, shipping: shipping ? shippingLeftMoney : undefined, reason: why });
  }
  return (
    <Card title={t("order.refund")}>
      <form className="stack" id="refund-form" onSubmit={submit}>
        <fieldset className="checks refund-mode">
          <legend>{t("refund.how")}</legend>
          <label className="check"><input type="radio" id="refund-mode-amount" name="refund-mode" checked={mode === "amount"} onChange={() => setMode("amount")} /> {t("refund.byAmount")}</label>
          <label className="check"><input type="radio" id="refund-mode-lines" name="refund-mode" checked={mode === "lines"} onChange={() => setMode("lines")} /> {t("refund.byLines")}</label>
        </fieldset>
        {mode === "amount" ? (
          <Field id="refund-form-amount" label={`${t("order.refundAmount")} (${order.currencyCode})`} inputMode="decimal" required pattern="[0-9]+([.][0-9]+)?" value={amount} onChange={(e) => setAmount(e.target.value)} />
        ) : (
          <>
            <div className="ship-lines" id="refund-lines">
              {order.lines.map((l) => (
                <Field key={l.id} id={"refund-qty-" + l.id} type="number" min={0} max={Math.max(left(l), 0)} step={1} disabled={left(l) <= 0}
                  label={`${[l.productTitle, l.variantTitle].filter(Boolean).join(" · ")} (${t("refund.unitsLeft", { n: String(Math.max(left(l), 0)), of: String(l.quantity) })})`}
                  value={qty[l.id] ?? ""} placeholder="0" onChange={(e) => setQty({ ...qty, [l.id]: e.target.value })} />
              ))}
            </div>
            {shippingLeft > 0 && (
              <label className="check"><input type="checkbox" id="refund-shipping" checked={withShipping} onChange={(e) => setWithShipping(e.target.checked)} /> {t("refund.shipping", { amount: formatMoney(shippingLeftMoney, lang) })}</label>
            )}
            <p className="muted field-hint">{t("refund.linesHint")}</p>
          </>
        )}
        <Field id="refund-form-reason" label={t("order.refundReason")} maxLength={500} value={reason} onChange={(e) => setReason(e.target.value)} />
        {problem && <p className="field-error" role="alert">{problem}</p>}
        <div className="inline-form">
          <Button type="submit" variant="primary">{t("order.refundSubmit")}</Button>
          <Button variant="plain" onClick={onCancel}>{t("common.cancel")}</Button>
        </div>
      </form>
    </Card>
  );
}

function AmountForm(props: {
  id: string; currency: string; amountLabel: string; initial?: string; submit: string; cancel: string;
  onSubmit(amount: string): Promise<void>; onCancel(): void;
}) {
  const [amount, setAmount] = useState(props.initial ?? "");
  function submit(e: FormEvent) {
    e.preventDefault();
    void props.onSubmit(amount.trim());
  }
  return (
    <Card>
      <form className="inline-form" id={props.id} onSubmit={submit}>
        <Field id={props.id + "-amount"} label={`${props.amountLabel} (${props.currency})`} inputMode="decimal" required pattern="[0-9]+([.][0-9]+)?" value={amount} onChange={(e) => setAmount(e.target.value)} />
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
