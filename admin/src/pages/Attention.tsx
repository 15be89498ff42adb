// The dashboard's "Needs attention": gateway events Kassa flagged for
// staff (money for a cancelled order, an amount that does not match, an
// under- or over-paid transfer, a dispute...) that nobody has resolved.
// Staff act on the order first (refund, capture, confirm), then resolve
// the flag here with a note; the flag then leaves the list and the order's
// payment events show who resolved it and why.
import { useCallback, useEffect, useState, type FormEvent } from "react";
import { Link } from "wouter";
import { check, gql } from "../api/client";
import type { PaymentEvent } from "../api/schema";
import { formatDate, formatMoney, useI18n } from "../i18n";
import { useSession } from "../session";
import { Badge, Button, Card, EmptyState, ErrorBanner, Table } from "../ui";
import { TextArea } from "./Gate";

type Flag = Pick<PaymentEvent, "id" | "type" | "flag" | "amount" | "orderId" | "detail" | "receivedAt">;

const FLAGGED = `query Attention { flaggedPaymentEvents(first: 20) { id type flag amount { amount currencyCode } orderId detail receivedAt } }`;
const RESOLVE = `mutation Resolve($input: PaymentEventResolveInput!) { paymentEventResolve(input: $input) { event { id } userErrors { field message code } } }`;

export function Attention() {
  const { t, label, lang } = useI18n();
  const { can } = useSession();
  const mayResolve = can("payment:write");
  const [flags, setFlags] = useState<Flag[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [open, setOpen] = useState<string | null>(null); // the flag whose resolve form shows
  const [note, setNote] = useState("");
  const [busy, setBusy] = useState(false);
  const load = useCallback(async () => {
    setError(null);
    try {
      setFlags((await gql<{ flaggedPaymentEvents: Flag[] }>(FLAGGED)).flaggedPaymentEvents);
    } catch (e) {
      setError(e);
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  async function resolve(e: FormEvent, id: string) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      check((await gql<{ paymentEventResolve: { userErrors: [] } }>(RESOLVE, { input: { id, note } })).paymentEventResolve);
      setOpen(null);
      setNote("");
      await load();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  if (flags === null && !error) return null;
  return (
    <Card title={t("attention.title")}>
      <ErrorBanner error={error} onRetry={() => void load()} retryLabel={t("common.retry")} />
      {flags && flags.length === 0 && <EmptyState title={t("attention.none")}>{t("attention.noneHint")}</EmptyState>}
      {flags && flags.length > 0 && (
        <div id="attention">
          <p className="muted">{t("attention.hint")}</p>
          <Table<Flag> rows={flags} rowKey={(f) => f.id} columns={[
            { header: t("attention.flag"), cell: (f) => <span className="wrap"><Badge value="FAILED" label={label("paymentEventFlag", f.flag ?? "")} /><div className="muted"><code>{f.type}</code></div></span> },
            { header: t("attention.amount"), cell: (f) => (f.amount ? formatMoney(f.amount, lang) : "—"), align: "end" },
            { header: t("attention.order"), cell: (f) => (f.orderId ? <Link href={`/orders/${f.orderId}`}>{t("attention.viewOrder")}</Link> : <span className="muted">{t("attention.noOrder")}</span>) },
            { header: t("attention.detail"), cell: (f) => <span className="wrap">{f.detail || "—"}</span> },
            { header: t("attention.received"), cell: (f) => formatDate(f.receivedAt, lang) },
            ...(mayResolve ? [{
              header: "", cell: (f: Flag) => open === f.id ? (
                <form className="inline-form attention-resolve" onSubmit={(e) => void resolve(e, f.id)}>
                  <TextArea id={`resolve-note-${f.id}`} label={t("attention.note")} value={note} maxLength={1000} rows={2} onChange={(e) => setNote(e.target.value)} />
                  <Button variant="primary" type="submit" disabled={busy}>{t("attention.resolve")}</Button>
                  <Button type="button" onClick={() => { setOpen(null); setNote(""); }}>{t("common.cancel")}</Button>
                </form>
              ) : <Button id={`resolve-${f.id}`} onClick={() => { setOpen(f.id); setNote(""); }}>{t("attention.resolve")}</Button>,
            }] : []),
          ]} />
        </div>
      )}
    </Card>
  );
}
