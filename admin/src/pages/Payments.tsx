// Payment routing: per payment method the buyer chooses (card, alipay),
// the gateways that may take it, in the order Kassa tries them, each
// optionally narrowed to a currency, a buyer country and an amount range.
// A method's routes are saved together (paymentRoutesSet replaces them
// all), so the screen edits a draft of each method and saves it whole.
import { useCallback, useEffect, useState, type FormEvent } from "react";
import { check, gql } from "../api/client";
import type { Plugin, PaymentRoute, UserError } from "../api/schema";
import { formatMoney, useI18n } from "../i18n";
import { useSession } from "../session";
import { Button, Card, EmptyState, ErrorBanner, Field, Spinner } from "../ui";
import { Gate, Notice } from "./Gate";

type Route = Pick<PaymentRoute, "id" | "method" | "gatewayId" | "currency" | "country" | "minAmount" | "maxAmount" | "position">;
/** An installed payment plugin, with its displayName in the admin's language. */
type Gateway = Pick<Plugin, "id" | "enabled"> & { name: string };

const ROUTE_FIELDS = `id method gatewayId currency country minAmount { amount currencyCode } maxAmount { amount currencyCode } position`;

/** The screen's query; the gateways to choose from only for a role that may read plugins. */
function loadQuery(plugins: boolean): string {
  if (!plugins) return `query PaymentRoutesScreen { paymentRoutes { ${ROUTE_FIELDS} } }`;
  return `query PaymentRoutesScreen($language: String) { paymentRoutes { ${ROUTE_FIELDS} } plugins(kind: PAYMENT) { id enabled name: displayName(language: $language) } }`;
}

const SET = `mutation($input: PaymentRoutesSetInput!) { paymentRoutesSet(input: $input) { routes { ${ROUTE_FIELDS} } userErrors { code field message } } }`;

/** One route as edited: text fields, empty for "any". */
interface Draft {
  key: string;
  gatewayId: string;
  currency: string;
  country: string;
  minAmount: string;
  maxAmount: string;
}

let draftSeq = 0;
const newKey = () => "d" + ++draftSeq;

function toDraft(r: Route): Draft {
  return { key: r.id, gatewayId: r.gatewayId, currency: r.currency ?? "", country: r.country ?? "", minAmount: r.minAmount?.amount ?? "", maxAmount: r.maxAmount?.amount ?? "" };
}

/** The draft as paymentRoutesSet takes it: empty fields left out, codes upper case. */
function toInput(d: Draft): Record<string, string> {
  const out: Record<string, string> = { gatewayId: d.gatewayId.trim() };
  const put = (k: string, v: string) => {
    if (v.trim()) out[k] = v.trim();
  };
  put("currency", d.currency.toUpperCase());
  put("country", d.country.toUpperCase());
  put("minAmount", d.minAmount);
  put("maxAmount", d.maxAmount);
  return out;
}

/** Groups the stored routes by method, each method's in position order. */
function byMethod(routes: Route[]): Record<string, Draft[]> {
  const out: Record<string, Draft[]> = {};
  for (const r of [...routes].sort((a, b) => a.method.localeCompare(b.method) || a.position - b.position)) {
    (out[r.method] ??= []).push(toDraft(r));
  }
  return out;
}

export function Payments() {
  return (
    <Gate permission="payment:read">
      <PaymentsScreen />
    </Gate>
  );
}

function PaymentsScreen() {
  const { t, lang } = useI18n();
  const { can } = useSession();
  const write = can("payment:write");
  const seesPlugins = can("plugin:read");
  const [stored, setStored] = useState<Record<string, Draft[]> | null>(null);
  const [gateways, setGateways] = useState<Gateway[] | null>(null);
  const [added, setAdded] = useState<string[]>([]);
  // The method whose routing was just removed, its card gone with it.
  const [removed, setRemoved] = useState("");
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(async () => {
    try {
      const d = await gql<{ paymentRoutes: Route[]; plugins?: Gateway[] }>(loadQuery(seesPlugins), seesPlugins ? { language: lang } : {});
      setStored(byMethod(d.paymentRoutes));
      setGateways(d.plugins ?? null);
      setError(null);
    } catch (e) {
      setError(e);
    }
  }, [seesPlugins, lang]);
  useEffect(() => {
    void load();
  }, [load]);

  const [method, setMethod] = useState("");
  function addMethod(e: FormEvent) {
    e.preventDefault();
    const m = method.trim().toLowerCase();
    if (!m || added.includes(m) || (stored && m in stored)) return;
    setAdded([...added, m]);
    setMethod("");
  }

  const methods = stored ? [...Object.keys(stored), ...added.filter((m) => !(m in stored))] : [];
  return (
    <div className="page">
      <div className="page-header"><h1>{t("routes.title")}</h1></div>
      <p className="muted">{t("routes.intro")}</p>
      <Notice>{removed && t("routes.removed", { method: removed })}</Notice>
      <ErrorBanner error={error} onRetry={() => void load()} retryLabel={t("common.retry")} />
      {!stored && !error && <Spinner label={t("common.loading")} />}
      {stored && !write && <p className="muted" id="routes-readonly">{t("routes.readOnly")}</p>}
      {stored && methods.length === 0 && (
        <EmptyState title={t("routes.empty")}>{write ? t("routes.emptyHint") : t("routes.emptyHintRead")}</EmptyState>
      )}
      {stored && methods.map((m) => (
        <MethodCard key={m} method={m} stored={stored[m] ?? []} gateways={gateways} write={write}
          onSaved={async (removed) => {
            setRemoved(removed);
            // Reloaded first, then dropped from the methods added here, in
            // one render: the card stays mounted and keeps its notice.
            await load();
            setAdded((a) => a.filter((x) => x !== m));
          }} />
      ))}
      {stored && write && (
        <Card title={t("routes.addMethod")}>
          <form className="inline-form" id="method-add-form" onSubmit={addMethod}>
            <Field id="route-method" label={t("routes.method")} placeholder="card" value={method} onChange={(e) => setMethod(e.target.value)} />
            <Button type="submit" id="route-method-add">{t("routes.addMethodButton")}</Button>
          </form>
          <p className="muted">{t("routes.methodHint")}</p>
        </Card>
      )}
    </div>
  );
}

function MethodCard({ method, stored, gateways, write, onSaved }: {
  method: string;
  stored: Draft[];
  gateways: Gateway[] | null;
  write: boolean;
  /** After a save; removed names the method when its routing is gone (its card with it). */
  onSaved(removed: string): Promise<void>;
}) {
  const { t, lang } = useI18n();
  const firstGateway = gateways?.find((g) => g.enabled)?.id ?? "";
  const blank = (): Draft => ({ key: newKey(), gatewayId: firstGateway, currency: "", country: "", minAmount: "", maxAmount: "" });
  // A method added on this screen starts with one route to fill in.
  const [rows, setRows] = useState<Draft[]>(() => (stored.length > 0 ? stored : [blank()]));
  const [error, setError] = useState<unknown>(null);
  // Shown in the current language, so a switch after saving translates it.
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  const dirty = JSON.stringify(rows.map(toInput)) !== JSON.stringify(stored.map(toInput));

  function change(i: number, patch: Partial<Draft>) {
    setRows(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  }
  function move(i: number, by: number) {
    const j = i + by;
    if (j < 0 || j >= rows.length) return;
    const next = [...rows];
    [next[i], next[j]] = [next[j], next[i]];
    setRows(next);
  }
  async function save(routes: Draft[]) {
    setError(null);
    setSaved(false);
    setBusy(true);
    try {
      const d = await gql<{ paymentRoutesSet: { routes: Route[] | null; userErrors: UserError[] } }>(SET, { input: { method, routes: routes.map(toInput) } });
      check(d.paymentRoutesSet);
      const kept = d.paymentRoutesSet.routes ?? [];
      setRows(kept.map(toDraft));
      setSaved(kept.length > 0);
      await onSaved(kept.length > 0 ? "" : method);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  const gatewayName = (id: string) => gateways?.find((g) => g.id === id)?.name ?? id;
  const any = <span className="muted">{t("routes.any")}</span>;
  return (
    <section className="card route-method" data-method={method}>
      <header className="card-header">
        <h2>{t("routes.methodTitle", { method })}</h2>
        {write && stored.length > 0 && (
          <div className="card-actions">
            <Button variant="plain" className="route-method-remove" disabled={busy} onClick={() => {
              if (confirm(t("routes.removeMethodConfirm", { method }))) void save([]);
            }}>{t("routes.removeMethod")}</Button>
          </div>
        )}
      </header>
      <div className="card-body stack">
        <Notice>{saved && t("routes.saved", { method })}</Notice>
        <ErrorBanner error={error} />
        <div className="table-wrap">
          <table className="table routes">
            <thead>
              <tr>
                <th>#</th>
                <th>{t("routes.gateway")}</th>
                <th>{t("routes.currency")}</th>
                <th>{t("routes.country")}</th>
                <th>{t("routes.min")}</th>
                <th>{t("routes.max")}</th>
                {write && <th />}
              </tr>
            </thead>
            <tbody>
              {rows.map((r, i) => (
                <tr key={r.key} className="route-row" data-gateway={r.gatewayId}>
                  <td className="route-position">{i + 1}</td>
                  {write ? (
                    <>
                      <td>
                        {gateways ? (
                          <select className="route-gateway" aria-label={t("routes.gateway")} value={r.gatewayId} onChange={(e) => change(i, { gatewayId: e.target.value })}>
                            {!gateways.some((g) => g.id === r.gatewayId) && <option value={r.gatewayId}>{r.gatewayId}</option>}
                            {gateways.map((g) => (
                              <option key={g.id} value={g.id}>{g.name}{g.enabled ? "" : ` (${t("routes.disabled")})`}</option>
                            ))}
                          </select>
                        ) : (
                          <input className="route-gateway" aria-label={t("routes.gateway")} placeholder="payment.testpay" value={r.gatewayId} onChange={(e) => change(i, { gatewayId: e.target.value })} />
                        )}
                      </td>
                      <td><input className="route-currency code-input" aria-label={t("routes.currency")} placeholder={t("routes.any")} maxLength={3} value={r.currency} onChange={(e) => change(i, { currency: e.target.value })} /></td>
                      <td><input className="route-country code-input" aria-label={t("routes.country")} placeholder={t("routes.any")} maxLength={2} value={r.country} onChange={(e) => change(i, { country: e.target.value })} /></td>
                      <td><input className="route-min rate-input" aria-label={t("routes.min")} inputMode="decimal" value={r.minAmount} onChange={(e) => change(i, { minAmount: e.target.value })} /></td>
                      <td><input className="route-max rate-input" aria-label={t("routes.max")} inputMode="decimal" value={r.maxAmount} onChange={(e) => change(i, { maxAmount: e.target.value })} /></td>
                      <td>
                        <span className="row-actions">
                          <Button variant="plain" className="route-up" aria-label={t("routes.up")} title={t("routes.up")} disabled={i === 0} onClick={() => move(i, -1)}>↑</Button>
                          <Button variant="plain" className="route-down" aria-label={t("routes.down")} title={t("routes.down")} disabled={i === rows.length - 1} onClick={() => move(i, 1)}>↓</Button>
                          <Button variant="plain" className="route-remove" onClick={() => setRows(rows.filter((_, j) => j !== i))}>{t("routes.remove")}</Button>
                        </span>
                      </td>
                    </>
                  ) : (
                    <>
                      <td className="route-gateway">{gatewayName(r.gatewayId)}{gatewayName(r.gatewayId) !== r.gatewayId && <> <span className="muted">{r.gatewayId}</span></>}</td>
                      <td>{r.currency || any}</td>
                      <td>{r.country || any}</td>
                      <td>{r.minAmount ? formatMoney({ amount: r.minAmount, currencyCode: r.currency }, lang) : any}</td>
                      <td>{r.maxAmount ? formatMoney({ amount: r.maxAmount, currencyCode: r.currency }, lang) : any}</td>
                    </>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {rows.length === 0 && <p className="muted">{t("routes.noRoutes")}</p>}
        <p className="muted">{t("routes.failover")}</p>
        {write && (
          <div className="row-actions">
            <Button className="route-add" onClick={() => setRows([...rows, blank()])}>{t("routes.addRoute")}</Button>
            <Button variant="primary" className="route-save" disabled={busy || (!dirty && stored.length > 0)}
              onClick={() => void save(rows)}>{t("routes.save")}</Button>
            {dirty && stored.length > 0 && <Button variant="plain" className="route-reset" onClick={() => { setRows(stored); setError(null); }}>{t("routes.reset")}</Button>}
          </div>
        )}
      </div>
    </section>
  );
}
