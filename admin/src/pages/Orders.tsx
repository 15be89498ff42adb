import { useCallback, useEffect, useState, type FormEvent } from "react";
import { useLocation, useSearch } from "wouter";
import { gql } from "../api/client";
import type { Order, OrderConnection, OrderPaymentStatus, OrderStatus } from "../api/schema";
import { formatDate, formatMoney, useI18n } from "../i18n";
import { Badge, Button, Card, EmptyState, ErrorBanner, Field, Select, Spinner, Table } from "../ui";

type Row = Pick<Order, "id" | "number" | "email" | "status" | "paymentStatus" | "fulfillmentStatus" | "total" | "createdAt">;

const ORDERS = `query Orders($first: Int, $after: String, $filter: OrderFilter) {
  orders(first: $first, after: $after, filter: $filter) {
    nodes { id number email status paymentStatus fulfillmentStatus total { amount currencyCode } createdAt }
    pageInfo { hasNextPage endCursor }
  }
}`;

const statuses: OrderStatus[] = ["OPEN", "COMPLETED", "CANCELLED"];
const paymentStatuses: OrderPaymentStatus[] = ["PENDING", "AUTHORIZED", "PAID", "PARTIALLY_REFUNDED", "REFUNDED", "VOIDED", "FAILED"];
const pageSize = 50;

/** The orders list: filters live in the URL, so a filtered list can be shared and reloaded. */
export function Orders() {
  const { t, lang } = useI18n();
  const [, navigate] = useLocation();
  const params = new URLSearchParams(useSearch());
  const status = params.get("status") ?? "";
  const paymentStatus = params.get("paymentStatus") ?? "";
  const query = params.get("query") ?? "";
  const after = params.get("after") ?? "";
  const [search, setSearch] = useState(query);
  const [data, setData] = useState<{ nodes: Row[]; pageInfo: OrderConnection["pageInfo"] } | null>(null);
  const [error, setError] = useState<unknown>(null);

  const load = useCallback(async () => {
    setError(null);
    const filter: Record<string, string> = {};
    if (status) filter.status = status;
    if (paymentStatus) filter.paymentStatus = paymentStatus;
    if (query) filter.query = query;
    try {
      const d = await gql<{ orders: { nodes: Row[]; pageInfo: OrderConnection["pageInfo"] } }>(ORDERS, { first: pageSize, after: after || null, filter });
      setData(d.orders);
    } catch (e) {
      setError(e);
    }
  }, [status, paymentStatus, query, after]);
  useEffect(() => {
    void load();
  }, [load]);

  function go(change: Record<string, string>) {
    const p = new URLSearchParams({ status, paymentStatus, query, ...change });
    if (!("after" in change)) p.delete("after");
    for (const [k, v] of [...p.entries()]) if (!v) p.delete(k);
    const s = p.toString();
    navigate("/orders" + (s ? "?" + s : ""));
  }
  function submitSearch(e: FormEvent) {
    e.preventDefault();
    go({ query: search.trim() });
  }
  const exportParams = new URLSearchParams();
  if (status) exportParams.set("status", status);
  if (paymentStatus) exportParams.set("paymentStatus", paymentStatus);
  if (query) exportParams.set("query", query);
  exportParams.set("tz", Intl.DateTimeFormat().resolvedOptions().timeZone);

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
          <Select id="filter-status" label={t("orders.status")} value={status} onChange={(e) => go({ status: e.target.value })}
            options={[["", t("common.all")], ...statuses.map((s): [string, string] => [s, s.toLowerCase().replace(/_/g, " ")])]} />
          <Select id="filter-payment" label={t("orders.paymentStatus")} value={paymentStatus} onChange={(e) => go({ paymentStatus: e.target.value })}
            options={[["", t("common.all")], ...paymentStatuses.map((s): [string, string] => [s, s.toLowerCase().replace(/_/g, " ")])]} />
          <Button type="submit">{t("common.search")}</Button>
        </form>
        <ErrorBanner error={error} onRetry={() => void load()} retryLabel={t("common.retry")} />
        {!data && !error && <Spinner label={t("common.loading")} />}
        {data && data.nodes.length === 0 && <EmptyState title={t("orders.empty")}>{t("orders.emptyHint")}</EmptyState>}
        {data && data.nodes.length > 0 && (
          <Table<Row>
            rows={data.nodes}
            rowKey={(o) => o.id}
            onRowClick={(o) => navigate("/orders/" + o.id)}
            columns={[
              { header: t("orders.number"), cell: (o) => <a href={"/admin/orders/" + o.id} className="order-link" onClick={(e) => { e.preventDefault(); navigate("/orders/" + o.id); }}>{o.number}</a> },
              { header: t("orders.date"), cell: (o) => formatDate(o.createdAt, lang) },
              { header: t("orders.customer"), cell: (o) => o.email },
              { header: t("orders.paymentStatus"), cell: (o) => <Badge value={o.paymentStatus} /> },
              { header: t("orders.fulfillment"), cell: (o) => <Badge value={o.fulfillmentStatus} /> },
              { header: t("orders.status"), cell: (o) => <Badge value={o.status} /> },
              { header: t("orders.total"), cell: (o) => formatMoney(o.total, lang), align: "end" },
            ]}
          />
        )}
        <div className="pager">
          {after && <Button onClick={() => go({ after: "" })}>{t("common.first")}</Button>}
          {data?.pageInfo.hasNextPage && <Button id="next-page" onClick={() => go({ after: data.pageInfo.endCursor ?? "" })}>{t("common.next")}</Button>}
        </div>
      </Card>
    </div>
  );
}
