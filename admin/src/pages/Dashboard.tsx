import { useCallback, useEffect, useState } from "react";
import { gql } from "../api/client";
import type { Money, Order, PaymentAnalyticsRow } from "../api/schema";
import { formatMoney, useI18n } from "../i18n";
import { useSession } from "../session";
import { Card, EmptyState, ErrorBanner, Spinner, Table } from "../ui";

// Counts stop at one page: the dashboard says "100 or more" rather than
// paging through every order.
const cap = 100;

const FIGURES = `query Dashboard($today: OrderFilter!, $unpaid: OrderFilter!, $first: Int!) {
  today: orders(first: $first, filter: $today) { nodes { id paymentStatus total { amount currencyCode } } pageInfo { hasNextPage } }
  unpaid: orders(first: $first, filter: $unpaid) { nodes { id } pageInfo { hasNextPage } }
}`;
const ANALYTICS = `query Analytics($from: DateTime!, $to: DateTime!) {
  paymentAnalytics(from: $from, to: $to, groupBy: GATEWAY) { key attempts succeeded failed successRate captured { amount currencyCode } }
}`;

interface Figures {
  today: { nodes: Array<Pick<Order, "id" | "paymentStatus" | "total">>; pageInfo: { hasNextPage: boolean } };
  unpaid: { nodes: Array<Pick<Order, "id">>; pageInfo: { hasNextPage: boolean } };
}

/** Adds amounts per currency, in minor-unit-safe decimal arithmetic. */
function sumByCurrency(ms: Money[]): Money[] {
  const totals = new Map<string, { units: bigint; digits: number }>();
  for (const m of ms) {
    const [whole, frac = ""] = m.amount.replace("-", "").split(".");
    const sign = m.amount.startsWith("-") ? -1n : 1n;
    const cur = totals.get(m.currencyCode) ?? { units: 0n, digits: frac.length };
    const digits = Math.max(cur.digits, frac.length);
    const scale = (n: bigint, from: number) => n * 10n ** BigInt(digits - from);
    cur.units = scale(cur.units, cur.digits) + sign * scale(BigInt(whole + frac), frac.length);
    cur.digits = digits;
    totals.set(m.currencyCode, cur);
  }
  return [...totals.entries()].map(([currencyCode, { units, digits }]) => {
    const neg = units < 0n;
    const s = (neg ? -units : units).toString().padStart(digits + 1, "0");
    const amount = digits > 0 ? `${s.slice(0, -digits)}.${s.slice(-digits)}` : s;
    return { currencyCode, amount: (neg ? "-" : "") + amount };
  });
}

export function Dashboard() {
  const { t, lang } = useI18n();
  const { can } = useSession();
  const [figures, setFigures] = useState<Figures | null>(null);
  const [rows, setRows] = useState<PaymentAnalyticsRow[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(async () => {
    const midnight = new Date();
    midnight.setHours(0, 0, 0, 0);
    const now = new Date();
    try {
      setFigures(await gql<Figures>(FIGURES, {
        first: cap,
        today: { createdFrom: midnight.toISOString() },
        unpaid: { status: "OPEN", paymentStatus: "PENDING" },
      }));
      if (can("payment:read")) {
        const from = new Date(now.getTime() - 30 * 24 * 3600 * 1000);
        const d = await gql<{ paymentAnalytics: PaymentAnalyticsRow[] }>(ANALYTICS, { from: from.toISOString(), to: now.toISOString() });
        setRows(d.paymentAnalytics);
      }
      setError(null);
    } catch (e) {
      setError(e);
    }
  }, [can]);
  useEffect(() => {
    void load();
  }, [load]);

  const count = (c: { nodes: unknown[]; pageInfo: { hasNextPage: boolean } }) => `${c.nodes.length}${c.pageInfo.hasNextPage ? "+" : ""}`;
  const revenue = figures
    ? sumByCurrency(figures.today.nodes.filter((o) => o.paymentStatus === "PAID" || o.paymentStatus === "PARTIALLY_REFUNDED").map((o) => o.total))
    : [];
  return (
    <div className="page">
      <div className="page-header"><h1>{t("dash.title")}</h1></div>
      <ErrorBanner error={error} onRetry={() => void load()} retryLabel={t("common.retry")} />
      {!figures && !error && <Spinner label={t("common.loading")} />}
      {figures && (
        <div className="stats">
          <Card><div className="stat"><span className="stat-label">{t("dash.todayOrders")}</span><span className="stat-value" id="stat-today">{count(figures.today)}</span></div></Card>
          <Card><div className="stat"><span className="stat-label">{t("dash.todayRevenue")}</span><span className="stat-value">{revenue.length ? revenue.map((m) => formatMoney(m, lang)).join(" · ") : "0"}</span></div></Card>
          <Card><div className="stat"><span className="stat-label">{t("dash.unpaid")}</span><span className="stat-value">{count(figures.unpaid)}</span></div></Card>
        </div>
      )}
      {rows && (
        <Card title={t("dash.gateways")}>
          {rows.length === 0 ? <EmptyState title={t("dash.noPayments")} /> : (
            <Table<PaymentAnalyticsRow> rows={rows} rowKey={(r) => r.key} columns={[
              { header: t("dash.gateway"), cell: (r) => r.key },
              { header: t("dash.attempts"), cell: (r) => r.attempts, align: "end" },
              { header: t("dash.successRate"), cell: (r) => (r.successRate * 100).toFixed(1) + "%", align: "end" },
              { header: t("dash.captured"), cell: (r) => r.captured.map((m) => formatMoney(m, lang)).join(" · "), align: "end" },
            ]} />
          )}
        </Card>
      )}
    </div>
  );
}
