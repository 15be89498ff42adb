import { useCallback, useEffect, useState, type FormEvent } from "react";
import { useLocation, useSearch } from "wouter";
import { check, gql, idempotencyKey } from "../api/client";
import type { Order, OrderConnection, OrderCount, OrderFulfillmentStatus, OrderPaymentStatus, OrdersBulkResult, OrderStatus, UserError } from "../api/schema";
import { formatDate, formatMoney, useI18n } from "../i18n";
import { useSession } from "../session";
import { Badge, Button, Card, EmptyState, ErrorBanner, Field, Select, Spinner, Table } from "../ui";
import { Gate, TextArea } from "./Gate";

type Row = Pick<Order, "id" | "number" | "email" | "status" | "paymentStatus" | "fulfillmentStatus" | "total" | "createdAt">;

const ORDERS = `query Orders($first: Int, $after: String, $filter: OrderFilter) {
  orders(first: $first, after: $after, filter: $filter) {
    nodes { id number email status paymentStatus fulfillmentStatus total { amount currencyCode } createdAt }
    pageInfo { hasNextPage endCursor }
  }
}`;

// The count is asked apart from the page, once per filter: the list never
// waits for it, and paging does not count again (ordersCount reads at most
// 1,001 index entries and gives up after 100 ms on a rare filter).
const COUNT = `query OrdersCount($filter: OrderFilter) { ordersCount(filter: $filter) { count hasMore } }`;

const bulkResult = `result { action succeeded failed replayed outcomes { orderId number ok code message } } userErrors { code field message }`;
const BULK = {
  ship: `mutation($input: OrdersBulkShipInput!) { ordersBulkShip(input: $input) { ${bulkResult} } }`,
  cancel: `mutation($input: OrdersBulkCancelInput!) { ordersBulkCancel(input: $input) { ${bulkResult} } }`,
  note: `mutation($input: OrdersBulkNoteAddInput!) { ordersBulkNoteAdd(input: $input) { ${bulkResult} } }`,
};
type BulkKind = keyof typeof BULK;

const statuses: OrderStatus[] = ["OPEN", "COMPLETED", "CANCELLED"];
const paymentStatuses: OrderPaymentStatus[] = ["PENDING", "AUTHORIZED", "PAID", "PARTIALLY_PAID", "PARTIALLY_REFUNDED", "REFUNDED", "VOIDED", "FAILED"];
const fulfillmentStatuses: OrderFulfillmentStatus[] = ["UNFULFILLED", "PARTIALLY_FULFILLED", "FULFILLED", "DELIVERED", "RETURNED"];
const pageSize = 50;
/** The URL parameters that filter the list; the CSV export takes the same. */
const filterKeys = ["status", "paymentStatus", "fulfillmentStatus", "query", "from", "to", "customerId"] as const;
type FilterKey = (typeof filterKeys)[number];

/** Midnight at the start of a yyyy-mm-dd day in the browser's time zone, as an instant; days later with add. */
function dayStart(day: string, add = 0): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return null;
  return new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + add).toISOString();
}

/** The orders list: filters live in the URL, so a filtered list can be shared and reloaded. */
export function Orders() {
  return (
    <Gate permission="order:read">
      <OrderList />
    </Gate>
  );
}

function OrderList() {
  const { t, lang } = useI18n();
  const { can } = useSession();
  const [, navigate] = useLocation();
  const params = new URLSearchParams(useSearch());
  const f = Object.fromEntries(filterKeys.map((k) => [k, params.get(k) ?? ""])) as Record<FilterKey, string>;
  const after = params.get("after") ?? "";
  // The page's number, kept in the URL beside its cursor; unknown (0) for
  // a cursor without one (a link from before pages were numbered).
  const pageNo = !after ? 1 : Math.max(0, Math.floor(Number(params.get("page")) || 0));
  const [search, setSearch] = useState(f.query);
  const [data, setData] = useState<{ nodes: Row[]; pageInfo: OrderConnection["pageInfo"] } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [bulk, setBulk] = useState<BulkKind | "">("");
  const [bulkText, setBulkText] = useState("");
  const [bulkError, setBulkError] = useState<unknown>(null);
  const [result, setResult] = useState<OrdersBulkResult | null>(null);
  const [busy, setBusy] = useState(false);
  const [count, setCount] = useState<OrderCount | null>(null);
  const write = can("order:write");

  const filter: Record<string, string> = {};
  if (f.status) filter.status = f.status;
  if (f.paymentStatus) filter.paymentStatus = f.paymentStatus;
  if (f.fulfillmentStatus) filter.fulfillmentStatus = f.fulfillmentStatus;
  if (f.query) filter.query = f.query;
  if (f.customerId) filter.customerId = f.customerId;
  const from = dayStart(f.from);
  const to = dayStart(f.to, 1);
  if (from) filter.createdFrom = from;
  if (to) filter.createdTo = to;
  const filterKey = JSON.stringify(filter);

  const load = useCallback(async () => {
    setError(null);
    try {
      const d = await gql<{ orders: { nodes: Row[]; pageInfo: OrderConnection["pageInfo"] } }>(ORDERS, { first: pageSize, after: after || null, filter: JSON.parse(filterKey) });
      setData(d.orders);
    } catch (e) {
      setError(e);
    }
  }, [filterKey, after]);
  useEffect(() => {
    void load();
  }, [load]);
  const loadCount = useCallback(async () => {
    setCount(null);
    try {
      setCount((await gql<{ ordersCount: OrderCount }>(COUNT, { filter: JSON.parse(filterKey) })).ordersCount);
    } catch {
      // The figure is an aid: the list, and its own errors, stand without it.
    }
  }, [filterKey]);
  useEffect(() => {
    void loadCount();
  }, [loadCount]);
  useEffect(() => {
    setSelected(new Set());
  }, [filterKey, after]);

  function go(change: Partial<Record<FilterKey | "after" | "page", string>>) {
    const p = new URLSearchParams({ ...f, ...change });
    if (!("after" in change)) p.delete("after");
    else if (change.after) p.set("after", change.after);
    if (!change.after) p.delete("page");
    for (const [k, v] of [...p.entries()]) if (!v) p.delete(k);
    const s = p.toString();
    navigate("/orders" + (s ? "?" + s : ""));
  }
  function submitSearch(e: FormEvent) {
    e.preventDefault();
    go({ query: search.trim() });
  }
  function toggle(id: string, on: boolean) {
    const next = new Set(selected);
    if (on) next.add(id);
    else next.delete(id);
    setSelected(next);
  }
  async function runBulk(e: FormEvent) {
    e.preventDefault();
    if (!bulk) return;
    setBulkError(null);
    setResult(null);
    setBusy(true);
    const input: Record<string, unknown> = { ids: [...selected], idempotencyKey: idempotencyKey() };
    if (bulk === "ship" && bulkText.trim()) input.carrier = bulkText.trim();
    if (bulk === "cancel") input.reason = bulkText;
    if (bulk === "note") input.body = bulkText;
    try {
      const d = await gql<Record<string, { result: OrdersBulkResult | null; userErrors: UserError[] }>>(BULK[bulk], { input });
      const payload = check(Object.values(d)[0]);
      setResult(payload.result);
      setBulk("");
      setBulkText("");
      setSelected(new Set());
      await Promise.all([load(), loadCount()]);
    } catch (err) {
      setBulkError(err);
    } finally {
      setBusy(false);
    }
  }

  const exportParams = new URLSearchParams();
  for (const k of ["status", "paymentStatus", "fulfillmentStatus", "query", "customerId"] as const) if (f[k]) exportParams.set(k, f[k]);
  if (from) exportParams.set("createdFrom", from);
  if (to) exportParams.set("createdTo", to);
  exportParams.set("tz", Intl.DateTimeFormat().resolvedOptions().timeZone);
  const filtered = filterKeys.some((k) => f[k] !== "");
  const rows = data?.nodes ?? [];
  const allSelected = rows.length > 0 && rows.every((r) => selected.has(r.id));
  const enumOptions = (labels: Array<[string, string]>): Array<[string, string]> => [["", t("common.all")], ...labels];
  /** "51–100 of 734", "1–50 of more than 1,000", or what of it is known. */
  function rangeText(): string {
    const total = count?.count == null ? "" : count.count.toLocaleString(lang);
    const range = pageNo ? `${((pageNo - 1) * pageSize + 1).toLocaleString(lang)}–${((pageNo - 1) * pageSize + rows.length).toLocaleString(lang)}` : "";
    if (!total) return range ? t("orders.countRange", { range }) : "";
    if (!range) return t(count?.hasMore ? "orders.countTotalMore" : "orders.countTotal", { total });
    return t(count?.hasMore ? "orders.countOfMore" : "orders.countOf", { range, total });
  }

  return (
    <div className="page">
      <div className="page-header">
        <h1>{t("orders.title")}</h1>
        <a className="btn btn-secondary" id="export-csv" href={"/admin/export/orders.csv?" + exportParams.toString()} download>
          {t("orders.export")}
        </a>
      </div>
      <Card>
        <form className="filters" onSubmit={submitSearch}>
          <Field id="order-search" label={t("common.search")} type="search" placeholder={t("orders.searchPlaceholder")} value={search} onChange={(e) => setSearch(e.target.value)} />
          <Select id="filter-status" label={t("orders.status")} value={f.status} onChange={(e) => go({ status: e.target.value })} options={enumOptions(statuses.map((s): [string, string] => [s, t(`orderStatus.${s}`)]))} />
          <Select id="filter-payment" label={t("orders.paymentStatus")} value={f.paymentStatus} onChange={(e) => go({ paymentStatus: e.target.value })} options={enumOptions(paymentStatuses.map((s): [string, string] => [s, t(`paymentStatus.${s}`)]))} />
          <Select id="filter-fulfillment" label={t("orders.fulfillment")} value={f.fulfillmentStatus} onChange={(e) => go({ fulfillmentStatus: e.target.value })} options={enumOptions(fulfillmentStatuses.map((s): [string, string] => [s, t(`fulfillmentStatus.${s}`)]))} />
          <Field id="filter-from" className="date" label={t("ordersB.from")} type="date" value={f.from} onChange={(e) => go({ from: e.target.value })} />
          <Field id="filter-to" className="date" label={t("ordersB.to")} type="date" value={f.to} onChange={(e) => go({ to: e.target.value })} />
          <Button type="submit">{t("common.search")}</Button>
          {filtered && <Button variant="plain" id="clear-filters" onClick={() => { setSearch(""); navigate("/orders"); }}>{t("ordersB.clear")}</Button>}
        </form>
        {f.customerId && <p className="muted">{t("ordersB.ofCustomer", { id: f.customerId })}</p>}
        {write && selected.size > 0 && (
          <div className="bulk-bar" id="bulk-bar">
            <span><strong id="selected-count">{selected.size}</strong> {t("ordersB.selected")}</span>
            <Button id="bulk-ship" onClick={() => { setBulk("ship"); setBulkText(""); }}>{t("ordersB.ship")}</Button>
            <Button id="bulk-cancel" variant="critical" onClick={() => { setBulk("cancel"); setBulkText(""); }}>{t("ordersB.cancel")}</Button>
            <Button id="bulk-note" onClick={() => { setBulk("note"); setBulkText(""); }}>{t("ordersB.note")}</Button>
          </div>
        )}
        {write && bulk && selected.size > 0 && (
          <form className="stack bulk-form" id="bulk-form" onSubmit={(e) => void runBulk(e)}>
            {bulk === "ship" && <Field id="bulk-text" label={t("ordersB.carrier")} value={bulkText} onChange={(e) => setBulkText(e.target.value)} />}
            {bulk === "cancel" && <TextArea id="bulk-text" label={t("ordersB.cancelReason")} value={bulkText} onChange={(e) => setBulkText(e.target.value)} required />}
            {bulk === "note" && <TextArea id="bulk-text" label={t("ordersB.noteBody")} value={bulkText} onChange={(e) => setBulkText(e.target.value)} required />}
            <p className="muted">{t(`ordersB.${bulk}Hint`, { count: String(selected.size) })}</p>
            <div className="inline-form">
              <Button type="submit" id="bulk-submit" variant={bulk === "cancel" ? "critical" : "primary"} disabled={busy}>
                {t(`ordersB.${bulk}Submit`, { count: String(selected.size) })}
              </Button>
              <Button variant="plain" onClick={() => setBulk("")}>{t("common.cancel")}</Button>
            </div>
          </form>
        )}
        <ErrorBanner error={bulkError} />
        {result && <BulkOutcome result={result} onClose={() => setResult(null)} />}
        <ErrorBanner error={error} onRetry={() => void load()} retryLabel={t("common.retry")} />
        {!data && !error && <Spinner label={t("common.loading")} />}
        {data && data.nodes.length === 0 && (filtered
          ? <EmptyState title={t("orders.empty")}>{t("ordersB.emptyFilteredHint")}</EmptyState>
          : <EmptyState title={t("ordersB.none")}>{t("orders.emptyHint")}</EmptyState>)}
        {data && data.nodes.length > 0 && (
          <Table<Row>
            rows={data.nodes}
            rowKey={(o) => o.id}
            onRowClick={(o) => navigate("/orders/" + o.id)}
            columns={[
              ...(write ? [{
                header: <input type="checkbox" id="select-all" aria-label={t("ordersB.selectAll")} checked={allSelected}
                  onChange={(e) => setSelected(e.target.checked ? new Set(rows.map((r) => r.id)) : new Set())} />,
                cell: (o: Row) => <input type="checkbox" className="select-order" data-id={o.id} aria-label={o.number} checked={selected.has(o.id)}
                  onClick={(e) => e.stopPropagation()} onChange={(e) => toggle(o.id, e.target.checked)} />,
              }] : []),
              { header: t("orders.number"), cell: (o) => <a href={"/admin/orders/" + o.id} className="order-link" onClick={(e) => { e.preventDefault(); e.stopPropagation(); navigate("/orders/" + o.id); }}>{o.number}</a> },
              { header: t("orders.date"), cell: (o) => formatDate(o.createdAt, lang) },
              { header: t("orders.customer"), cell: (o) => o.email },
              { header: t("orders.paymentStatus"), cell: (o) => <Badge value={o.paymentStatus} label={t(`paymentStatus.${o.paymentStatus}`)} /> },
              { header: t("orders.fulfillment"), cell: (o) => <Badge value={o.fulfillmentStatus} label={t(`fulfillmentStatus.${o.fulfillmentStatus}`)} /> },
              { header: t("orders.status"), cell: (o) => <span className="order-status" data-id={o.id}><Badge value={o.status} label={t(`orderStatus.${o.status}`)} /></span> },
              { header: t("orders.total"), cell: (o) => formatMoney(o.total, lang), align: "end" },
            ]}
          />
        )}
        <div className="pager">
          {data && rows.length > 0 && <span className="muted pager-count" id="orders-range">{rangeText()}</span>}
          {after && <Button onClick={() => go({ after: "" })}>{t("common.first")}</Button>}
          {data?.pageInfo.hasNextPage && <Button id="next-page" onClick={() => go({ after: data.pageInfo.endCursor ?? "", page: pageNo ? String(pageNo + 1) : "" })}>{t("common.next")}</Button>}
        </div>
      </Card>
    </div>
  );
}

function BulkOutcome({ result, onClose }: { result: OrdersBulkResult; onClose(): void }) {
  const { t } = useI18n();
  const failed = result.outcomes.filter((o) => !o.ok);
  return (
    <div className={failed.length ? "banner banner-attention" : "banner banner-success"} role="status" id="bulk-result">
      <p>{t("ordersB.result", { action: t(`ordersB.action.${result.action}`), ok: String(result.succeeded), failed: String(result.failed) })}
        {result.replayed && " " + t("ordersB.replayed")}</p>
      {failed.length > 0 && (
        <ul>
          {failed.map((o) => <li key={o.orderId}>{o.number ?? o.orderId}: {o.message} <code>{o.code}</code></li>)}
        </ul>
      )}
      <Button variant="plain" onClick={onClose}>{t("ordersB.dismiss")}</Button>
    </div>
  );
}
