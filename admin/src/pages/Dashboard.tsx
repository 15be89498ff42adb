import { useCallback, useEffect, useMemo, useState } from "react";
import { Link } from "wouter";
import { gql } from "../api/client";
import type { Money, PaymentAnalyticsRow, SalesSummary } from "../api/schema";
import { formatMoney, useI18n } from "../i18n";
import { useSession } from "../session";
import { Card, EmptyState, ErrorBanner, Select, Spinner, Table } from "../ui";
import { Attention } from "./Attention";
import { BarChart, RateChart } from "./charts";

// The figures are computed by the server (salesSummary: SQL aggregates
// over every order; paymentAnalytics), days cut in the browser's time
// zone: the shop keeps none of its own, and staff read "today" as their
// own day (docs/adr/0016). The dashboard only draws them.
const SALES = `query Sales($tz: String!, $from: String!, $to: String!) {
  salesSummary(timeZone: $tz, from: $from, to: $to) {
    timeZone awaitingShipment unpaid unpaidNearDeadline nearDeadlineSeconds
    days { date orders paidOrders revenue { amount currencyCode } }
  }
}`;
const ANALYTICS = `query Analytics($from: DateTime!, $to: DateTime!, $tz: String!) {
  gateways: paymentAnalytics(from: $from, to: $to, groupBy: GATEWAY) { key attempts succeeded failed successRate captured { amount currencyCode } }
  methods: paymentAnalytics(from: $from, to: $to, groupBy: METHOD) { key attempts succeeded failed successRate captured { amount currencyCode } }
  daily: paymentAnalytics(from: $from, to: $to, groupBy: GATEWAY, interval: DAY, timeZone: $tz) { bucketStart key attempts succeeded }
}`;

type Sales = Pick<SalesSummary, "timeZone" | "awaitingShipment" | "unpaid" | "unpaidNearDeadline" | "nearDeadlineSeconds"> & {
  days: Array<{ date: string; orders: number; paidOrders: number; revenue: Money[] }>;
};
type Row = Pick<PaymentAnalyticsRow, "key" | "attempts" | "succeeded" | "failed" | "successRate" | "captured">;
interface Analytics {
  gateways: Row[];
  methods: Row[];
  daily: Array<Pick<PaymentAnalyticsRow, "bucketStart" | "key" | "attempts" | "succeeded">>;
}

const days = 30;

/** The calendar day of d in the browser's time zone, YYYY-MM-DD. */
function localDate(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/** The browser's IANA time zone, which the server checks. */
function browserZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

/** The days shown, oldest first: the last `days` local days, today included. */
function lastDays(now: Date): Date[] {
  return Array.from({ length: days }, (_, i) => new Date(now.getFullYear(), now.getMonth(), now.getDate() - (days - 1) + i));
}

export function Dashboard() {
  const { t, lang, maybe } = useI18n();
  const { can } = useSession();
  const mayReport = can("report:read");
  const mayPayments = can("payment:read");
  const [sales, setSales] = useState<Sales | null>(null);
  const [analytics, setAnalytics] = useState<Analytics | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [currency, setCurrency] = useState("");
  const tz = browserZone();
  const load = useCallback(async () => {
    const now = new Date();
    const first = lastDays(now)[0];
    setError(null);
    try {
      if (mayReport) {
        const d = await gql<{ salesSummary: Sales }>(SALES, { tz, from: localDate(first), to: localDate(now) });
        setSales(d.salesSummary);
      }
      if (mayPayments) {
        // The same days as the sales: from the first one's local midnight,
        // each bucket a day of the browser's zone.
        setAnalytics(await gql<Analytics>(ANALYTICS, { from: first.toISOString(), to: now.toISOString(), tz }));
      }
    } catch (e) {
      setError(e);
    }
  }, [mayReport, mayPayments, tz]);
  useEffect(() => {
    void load();
  }, [load]);

  const currencies = useMemo(() => {
    const s = new Set<string>();
    sales?.days.forEach((d) => d.revenue.forEach((m) => s.add(m.currencyCode)));
    return [...s].sort();
  }, [sales]);
  const shown = currencies.includes(currency) ? currency : currencies[0] ?? "";
  const today = sales?.days[sales.days.length - 1];
  const anyOrders = sales?.days.some((d) => d.orders > 0) ?? false;

  const rate = useMemo(() => {
    if (!analytics) return null;
    const labels = lastDays(new Date()).map(localDate);
    const keys = [...new Set(analytics.daily.map((r) => r.key))].sort();
    const series = keys.map((k) => ({
      name: k,
      values: labels.map((l) => {
        // A bucket starts at its day's midnight in the browser's zone.
        const r = analytics.daily.find((x) => x.key === k && x.bucketStart && localDate(new Date(x.bucketStart)) === l);
        return r && r.attempts > 0 ? r.succeeded / r.attempts : null;
      }),
    }));
    return { labels, series };
  }, [analytics]);

  const money = (m: Money[]) => (m.length ? m.map((x) => formatMoney(x, lang)).join(" · ") : formatMoney({ amount: "0", currencyCode: shown || "CNY" }, lang));
  // name shows a row's key in words where the dictionary has them (a
  // method, INSTRUCTIONS: 付款说明（银行转账）), else as the API gives it.
  const rowsTable = (rows: Row[], keyHeader: string, name: (key: string) => string = (k) => k) => (
    <Table<Row> rows={rows} rowKey={(r) => r.key} columns={[
      { header: keyHeader, cell: (r) => name(r.key) },
      { header: t("dash.attempts"), cell: (r) => r.attempts, align: "end" },
      { header: t("dash.successRate"), cell: (r) => (r.successRate * 100).toFixed(1) + "%", align: "end" },
      { header: t("dash.captured"), cell: (r) => r.captured.map((m) => formatMoney(m, lang)).join(" · "), align: "end" },
    ]} />
  );

  return (
    <div className="page">
      <div className="page-header">
        <h1>{t("dash.title")}</h1>
        {(mayReport || mayPayments) && <span className="muted" id="dash-time-zone">{t("dash.timeZone", { tz: sales?.timeZone ?? tz })}</span>}
      </div>
      <ErrorBanner error={error} onRetry={() => void load()} retryLabel={t("common.retry")} />
      {!mayReport && !mayPayments && (
        <Card>
          <EmptyState title={t("dash.noReport")}>
            {t("dash.noReportHint")} <Link href="/orders">{t("dash.viewOrders")}</Link>
          </EmptyState>
        </Card>
      )}
      {mayPayments && <Attention />}
      {mayReport && !sales && !error && <Spinner label={t("common.loading")} />}
      {sales && today && (
        <div className="stats stats-4">
          <Card><div className="stat"><span className="stat-label">{t("dash.todayOrders")}</span><span className="stat-value" id="stat-today">{today.orders}</span><span className="muted">{t("dash.paidOrders", { n: String(today.paidOrders) })}</span></div></Card>
          <Card><div className="stat"><span className="stat-label">{t("dash.todayRevenue")}</span><span className="stat-value" id="stat-today-revenue">{money(today.revenue)}</span></div></Card>
          <Card><div className="stat"><span className="stat-label">{t("dash.awaitingShipment")}</span><span className="stat-value" id="stat-awaiting">{sales.awaitingShipment}</span>{can("order:read") && <Link href="/orders?status=OPEN">{t("dash.viewOrders")}</Link>}</div></Card>
          <Card><div className="stat"><span className="stat-label">{t("dash.nearDeadline")}</span><span className="stat-value" id="stat-near-deadline">{sales.unpaidNearDeadline}</span><span className="muted" id="stat-unpaid">{t("dash.nearDeadlineHint", { n: String(sales.unpaid), m: String(Math.round(sales.nearDeadlineSeconds / 60)) })}</span></div></Card>
        </div>
      )}
      {sales && (
        <Card title={t("dash.revenueChart")} actions={currencies.length > 1 && (
          <Select id="chart-currency" label={t("settings.currency")} value={shown} onChange={(e) => setCurrency(e.target.value)} options={currencies.map((c): [string, string] => [c, c])} />
        )}>
          {!anyOrders ? (
            <EmptyState title={t("dash.noSales")}>{t("dash.noSalesHint")}</EmptyState>
          ) : (
            <>
              <BarChart label={t("dash.revenueChart")} format={(v) => formatMoney({ amount: String(v), currencyCode: shown || "CNY" }, lang)}
                points={sales.days.map((d) => ({ label: d.date, value: Number(d.revenue.find((m) => m.currencyCode === shown)?.amount ?? 0) }))} />
              <h3>{t("dash.ordersChart")}</h3>
              <BarChart label={t("dash.ordersChart")} format={(v) => String(Math.round(v))} points={sales.days.map((d) => ({ label: d.date, value: d.orders }))} />
            </>
          )}
        </Card>
      )}
      {analytics && (
        <Card title={t("dash.gateways")}>
          {analytics.gateways.length === 0 ? <EmptyState title={t("dash.noPayments")} /> : (
            <>
              {rowsTable(analytics.gateways, t("dash.gateway"))}
              {rate && rate.series.length > 0 && (
                <>
                  <h3>{t("dash.rateOverTime")}</h3>
                  <RateChart label={t("dash.rateOverTime")} labels={rate.labels} series={rate.series} />
                </>
              )}
            </>
          )}
        </Card>
      )}
      {analytics && analytics.methods.length > 0 && <Card title={t("dash.byMethod")}>{rowsTable(analytics.methods, t("dash.method"), (k) => maybe("capability.action." + k.toLowerCase(), k))}</Card>}
    </div>
  );
}
