import { useCallback, useEffect, useState, type FormEvent } from "react";
import { check, gql, UserErrors } from "../api/client";
import type { PaymentCaptureMode, ShippingMethod, ShippingMethodKind, ShippingZone, ShopSettings, TaxRate, UserError } from "../api/schema";
import { formatMoney, useI18n } from "../i18n";
import { useSession } from "../session";
import { Badge, Button, Card, EmptyState, ErrorBanner, Field, Select, Spinner, Table } from "../ui";

const SETTINGS_FIELDS = `currencies paymentDeadlineSeconds reminderLeadSeconds orderNumberPrefix lineQuantityLimit unpaidOrdersPerBuyer pricesIncludeTax paymentCaptureMode storefrontOrigins updatedAt`;
const METHOD_FIELDS = `id zoneId name kind active position prices { currencyCode amount { amount currencyCode } freeOver { amount currencyCode } bands { maxGrams price { amount currencyCode } } }`;
const ZONE_FIELDS = `id name countries regions methods { ${METHOD_FIELDS} }`;
const TAX_FIELDS = `id country region name basisPoints`;
const LOAD = `query SettingsScreen { shopSettings { ${SETTINGS_FIELDS} } shippingZones { ${ZONE_FIELDS} } taxRates { ${TAX_FIELDS} } }`;
const UE = `userErrors { field message code }`;
const SAVE_SETTINGS = `mutation($input: ShopSettingsUpdateInput!) { shopSettingsUpdate(input: $input) { shopSettings { ${SETTINGS_FIELDS} } ${UE} } }`;
const ZONE_CREATE = `mutation($input: ShippingZoneCreateInput!) { shippingZoneCreate(input: $input) { shippingZone { id } ${UE} } }`;
const ZONE_DELETE = `mutation($id: ID!) { shippingZoneDelete(input: { id: $id }) { deletedShippingZoneId ${UE} } }`;
const METHOD_CREATE = `mutation($input: ShippingMethodCreateInput!) { shippingMethodCreate(input: $input) { shippingMethod { id } ${UE} } }`;
const METHOD_UPDATE = `mutation($input: ShippingMethodUpdateInput!) { shippingMethodUpdate(input: $input) { shippingMethod { id } ${UE} } }`;
const METHOD_DELETE = `mutation($id: ID!) { shippingMethodDelete(input: { id: $id }) { deletedShippingMethodId ${UE} } }`;
const TAX_CREATE = `mutation($input: TaxRateCreateInput!) { taxRateCreate(input: $input) { taxRate { id } ${UE} } }`;
const TAX_UPDATE = `mutation($input: TaxRateUpdateInput!) { taxRateUpdate(input: $input) { taxRate { id } ${UE} } }`;
const TAX_DELETE = `mutation($id: ID!) { taxRateDelete(input: { id: $id }) { deletedTaxRateId ${UE} } }`;

type Settings = Pick<ShopSettings, "currencies" | "paymentDeadlineSeconds" | "reminderLeadSeconds" | "orderNumberPrefix" | "lineQuantityLimit" | "unpaidOrdersPerBuyer" | "pricesIncludeTax" | "paymentCaptureMode" | "storefrontOrigins" | "updatedAt">;
type Zone = Pick<ShippingZone, "id" | "name" | "countries" | "regions"> & { methods: ShippingMethod[] };
type Rate = Pick<TaxRate, "id" | "country" | "region" | "name" | "basisPoints">;
interface Screen {
  shopSettings: Settings;
  shippingZones: Zone[];
  taxRates: Rate[];
}

/** Splits "CN, hk" into ["CN", "HK"]. */
const codes = (s: string) => s.split(/[\s,]+/).map((x) => x.trim().toUpperCase()).filter(Boolean);

/**
 * Reads the storefront origins typed one a line (commas and spaces split
 * too: an origin holds neither) as the list sent: no blank entries, no
 * trailing slash, no repeats. The server judges the rest (INVALID_ORIGIN).
 */
const originList = (s: string) => [...new Set(s.split(/[\s,]+/).map((x) => x.replace(/\/+$/, "")).filter(Boolean))];

const captureModes: PaymentCaptureMode[] = ["AUTOMATIC", "MANUAL"];

/** Runs a mutation whose payload is the only field of its answer, throwing its userErrors. */
async function mutate(query: string, vars: Record<string, unknown>) {
  const d = await gql<Record<string, { userErrors: UserError[] }>>(query, vars);
  check(Object.values(d)[0]);
}

/** The shop's settings, shipping zones and tax rates. */
export function SettingsPage() {
  const { t } = useI18n();
  const [data, setData] = useState<Screen | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(async () => {
    try {
      setData(await gql<Screen>(LOAD));
      setError(null);
    } catch (e) {
      setError(e);
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);
  return (
    <div className="page">
      <div className="page-header"><h1>{t("settings.title")}</h1></div>
      <ErrorBanner error={error} onRetry={() => void load()} retryLabel={t("common.retry")} />
      {!data && !error && <Spinner label={t("common.loading")} />}
      {data && (
        <>
          <StoreCard settings={data.shopSettings} onSaved={load} />
          <ZonesCard zones={data.shippingZones} currencies={data.shopSettings.currencies} onChanged={load} />
          <TaxCard rates={data.taxRates} onChanged={load} />
        </>
      )}
    </div>
  );
}

function StoreCard({ settings, onSaved }: { settings: Settings; onSaved(): Promise<void> }) {
  const { t } = useI18n();
  const { can } = useSession();
  const ro = !can("settings:write");
  const [f, setF] = useState(() => storeForm(settings));
  const [error, setError] = useState<unknown>(null);
  // The userErrors of each field, shown under it; only errors that name
  // no field of the form go to the banner on top.
  const [problems, setProblems] = useState<StoreProblems>({ origins: [] });
  const [saved, setSaved] = useState(false);
  async function submit(e: FormEvent) {
    e.preventDefault();
    setSaved(false);
    setError(null);
    setProblems({ origins: [] });
    const origins = originList(f.origins);
    try {
      const d = await gql<{ shopSettingsUpdate: { shopSettings: Settings | null; userErrors: UserError[] } }>(SAVE_SETTINGS, { input: {
        currencies: codes(f.currencies), paymentDeadlineSeconds: Math.round(Number(f.deadline) * 60), reminderLeadSeconds: Math.round(Number(f.reminder) * 60),
        orderNumberPrefix: f.prefix, lineQuantityLimit: Math.round(Number(f.limit)), unpaidOrdersPerBuyer: Math.round(Number(f.unpaid)), pricesIncludeTax: f.tax,
        paymentCaptureMode: f.capture, storefrontOrigins: origins,
      } });
      const next = check(d.shopSettingsUpdate).shopSettings;
      if (next) setF(storeForm(next)); // as the server keeps them: CNY, https://shop.example.com
      setSaved(true);
      await onSaved();
    } catch (err) {
      if (!(err instanceof UserErrors)) {
        setError(err);
        return;
      }
      // input.storefrontOrigins.2 names the third origin sent, and
      // input.currencies.1 the second currency.
      const next: StoreProblems = { origins: [] };
      const sentCodes = codes(f.currencies);
      const rest: UserError[] = [];
      for (const u of err.errors) {
        const [, name, index] = u.field ?? [];
        const text = `${u.message} (${u.code})`;
        const add = (key: Exclude<keyof StoreProblems, "origins">, prefix?: string) => {
          const line = prefix !== undefined ? `${prefix}: ${text}` : text;
          next[key] = next[key] ? `${next[key]}; ${line}` : line;
        };
        if (name === "storefrontOrigins") next.origins.push(index !== undefined && origins[Number(index)] !== undefined ? `${origins[Number(index)]}: ${text}` : text);
        else if (name === "currencies") add("currencies", index !== undefined ? sentCodes[Number(index)] : undefined);
        else if (name && name in storeFields) add(storeFields[name as keyof typeof storeFields]);
        else rest.push(u);
      }
      setProblems(next);
      setError(rest.length > 0 ? new UserErrors(rest) : null);
    }
  }
  return (
    <Card title={t("settings.store")}>
      <form className="stack" id="store-settings" onSubmit={(e) => void submit(e)} onInput={() => setSaved(false)}>
        <p className="muted">{t("settings.nameHint")}</p>
        {ro && <p className="muted">{t("settings.readOnly")}</p>}
        <ErrorBanner error={error} />
        {saved && <div className="banner banner-success" role="status">{t("settings.saved")}</div>}
        <div className="inline-form">
          <Field id="set-currencies" label={t("settings.currencies")} error={problems.currencies} value={f.currencies} disabled={ro} onChange={(e) => setF({ ...f, currencies: e.target.value })} />
          <Field id="set-prefix" label={t("settings.prefix")} error={problems.prefix} value={f.prefix} disabled={ro} maxLength={10} onChange={(e) => setF({ ...f, prefix: e.target.value })} />
        </div>
        <div className="inline-form">
          <Field id="set-deadline" type="number" min={5} label={t("settings.deadline")} error={problems.deadline} value={f.deadline} disabled={ro} onChange={(e) => setF({ ...f, deadline: e.target.value })} />
          <Field id="set-reminder" type="number" min={1} label={t("settings.reminder")} error={problems.reminder} value={f.reminder} disabled={ro} onChange={(e) => setF({ ...f, reminder: e.target.value })} />
          <Field id="set-limit" type="number" min={1} label={t("settings.lineLimit")} error={problems.limit} value={f.limit} disabled={ro} onChange={(e) => setF({ ...f, limit: e.target.value })} />
          <Field id="set-unpaid" type="number" min={0} label={t("settings.unpaidPerBuyer")} error={problems.unpaid} value={f.unpaid} disabled={ro} onChange={(e) => setF({ ...f, unpaid: e.target.value })} />
        </div>
        <label className="check"><input type="checkbox" checked={f.tax} disabled={ro} onChange={(e) => setF({ ...f, tax: e.target.checked })} /> {t("settings.pricesIncludeTax")}</label>
        {problems.tax && <p className="field-error" role="alert">{problems.tax}</p>}
        <fieldset className="checks" id="set-capture">
          <legend>{t("settings.captureMode")}</legend>
          {captureModes.map((m) => (
            <label className="choice" key={m}>
              <input type="radio" name="capture" id={"set-capture-" + m} value={m} checked={f.capture === m} disabled={ro} onChange={() => setF({ ...f, capture: m })} />
              <span><strong>{t(`settings.capture${m}`)}</strong> <span className="muted">{t(`settings.capture${m}Hint`)}</span></span>
            </label>
          ))}
          {problems.capture && <p className="field-error" role="alert">{problems.capture}</p>}
        </fieldset>
        <div className="field origins-field">
          <label htmlFor="set-origins">{t("settings.origins")}</label>
          <textarea id="set-origins" rows={3} placeholder="https://shop.example.com" spellCheck={false} autoCapitalize="off" value={f.origins} disabled={ro}
            aria-describedby="set-origins-hint" aria-invalid={problems.origins.length > 0 || undefined} onChange={(e) => setF({ ...f, origins: e.target.value })} />
          <p className="muted field-hint" id="set-origins-hint">{t("settings.originsHint")}</p>
          {problems.origins.length > 0 && (
            <ul className="field-error" id="set-origins-error" role="alert">
              {problems.origins.map((p, i) => <li key={i}>{p}</li>)}
            </ul>
          )}
        </div>
        {!ro && <div><Button type="submit" variant="primary" id="store-save">{t("settings.save")}</Button></div>}
      </form>
    </Card>
  );
}

/** The store form's userErrors, by the field they are shown under. */
interface StoreProblems {
  currencies?: string; prefix?: string; deadline?: string; reminder?: string; limit?: string; unpaid?: string; tax?: string; capture?: string;
  origins: string[];
}

/** The fields of shopSettingsUpdate's input and where their errors show. */
const storeFields = {
  orderNumberPrefix: "prefix", paymentDeadlineSeconds: "deadline", reminderLeadSeconds: "reminder",
  lineQuantityLimit: "limit", unpaidOrdersPerBuyer: "unpaid", pricesIncludeTax: "tax", paymentCaptureMode: "capture",
} as const;

/** The store form's values, as its inputs hold them. */
function storeForm(settings: Settings) {
  const min = (s: number | null) => (s === null ? "" : String(Math.round(s / 60)));
  return {
    currencies: settings.currencies.join(", "),
    deadline: min(settings.paymentDeadlineSeconds),
    reminder: min(settings.reminderLeadSeconds),
    prefix: settings.orderNumberPrefix ?? "",
    limit: String(settings.lineQuantityLimit ?? ""),
    unpaid: String(settings.unpaidOrdersPerBuyer ?? ""),
    tax: settings.pricesIncludeTax,
    capture: settings.paymentCaptureMode ?? ("AUTOMATIC" as PaymentCaptureMode),
    origins: (settings.storefrontOrigins ?? []).join("\n"),
  };
}

/** A method's prices in words: 12.00 CNY, free from 99.00 CNY, or its bands. */
function priceText(m: ShippingMethod, lang: "en" | "zh-CN"): string {
  return m.prices.map((p) => {
    if (m.kind === "WEIGHT_BANDS") {
      // The last band has no ceiling: it covers everything above the one before.
      return p.bands.map((b, i) => {
        const weight = b.maxGrams != null ? `≤${b.maxGrams}g` : `>${p.bands[i - 1]?.maxGrams ?? 0}g`;
        return `${weight} ${formatMoney(b.price, lang)}`;
      }).join(", ");
    }
    const a = formatMoney(p.amount, lang);
    return p.freeOver ? `${a} (< ${formatMoney(p.freeOver, lang)})` : a;
  }).join(" · ");
}

/** Reads "1000=12.00, *=20.00" as weight bands. */
function parseBands(s: string): Array<{ maxGrams: number | null; amount: string }> {
  return s.split(",").map((x) => x.trim()).filter(Boolean).map((x) => {
    const [g, a = ""] = x.split("=").map((y) => y.trim());
    return { maxGrams: g === "*" ? null : Number(g), amount: a };
  });
}

function ZonesCard({ zones, currencies, onChanged }: { zones: Zone[]; currencies: string[]; onChanged(): Promise<void> }) {
  const { t, lang } = useI18n();
  const { can } = useSession();
  const rw = can("settings:write");
  const [z, setZ] = useState({ name: "", countries: "", regions: "" });
  const [error, setError] = useState<unknown>(null);
  async function run(query: string, vars: Record<string, unknown>, after?: () => void) {
    setError(null);
    try {
      await mutate(query, vars);
      after?.();
      await onChanged();
    } catch (e) {
      setError(e);
    }
  }
  return (
    <Card title={t("settings.zones")}>
      <ErrorBanner error={error} />
      {zones.length === 0 && <EmptyState title={t("settings.zonesEmpty")}>{t("settings.zonesEmptyHint")}</EmptyState>}
      {zones.map((zone) => (
        <section className="zone" key={zone.id}>
          <div className="zone-head">
            <h3>{zone.name} <span className="muted">{zone.countries.join(", ")}{zone.regions.length > 0 && " · " + zone.regions.join(", ")}</span></h3>
            {rw && <Button variant="plain" onClick={() => { if (confirm(t("common.confirmDelete"))) void run(ZONE_DELETE, { id: zone.id }); }}>{t("settings.deleteZone")}</Button>}
          </div>
          {zone.methods.length === 0 ? <p className="muted">{t("settings.noMethods")}</p> : (
            <Table<ShippingMethod> rows={zone.methods} rowKey={(m) => m.id} columns={[
              { header: t("settings.methodName"), cell: (m) => m.name },
              { header: t("settings.kind"), cell: (m) => t(`settings.kind${m.kind}` as "settings.kindFLAT") },
              { header: t("settings.amount"), cell: (m) => <span className="wrap">{priceText(m, lang)}</span> },
              { header: "", cell: (m) => <Badge value={m.active ? "PAID" : "VOIDED"} label={m.active ? t("settings.active") : t("settings.inactive")} /> },
              { header: "", cell: (m) => rw && (
                <span className="row-actions">
                  <Button variant="plain" onClick={() => void run(METHOD_UPDATE, { input: { id: m.id, active: !m.active } })}>{m.active ? t("settings.deactivate") : t("settings.activate")}</Button>
                  <Button variant="plain" onClick={() => { if (confirm(t("common.confirmDelete"))) void run(METHOD_DELETE, { id: m.id }); }}>{t("settings.delete")}</Button>
                </span>
              ) },
            ]} />
          )}
          {rw && <MethodForm zoneId={zone.id} currencies={currencies} onSubmit={(input, done) => run(METHOD_CREATE, { input }, done)} />}
        </section>
      ))}
      {rw && (
        <form className="inline-form zone-form" id="zone-form" onSubmit={(e) => { e.preventDefault(); void run(ZONE_CREATE, { input: { name: z.name.trim(), countries: codes(z.countries), regions: codes(z.regions) } }, () => setZ({ name: "", countries: "", regions: "" })); }}>
          <Field id="zone-name" label={t("settings.zoneName")} value={z.name} onChange={(e) => setZ({ ...z, name: e.target.value })} />
          <Field id="zone-countries" label={t("settings.countries")} value={z.countries} onChange={(e) => setZ({ ...z, countries: e.target.value })} />
          <Field id="zone-regions" label={t("settings.regions")} value={z.regions} onChange={(e) => setZ({ ...z, regions: e.target.value })} />
          <Button type="submit" id="zone-add">{t("settings.addZone")}</Button>
        </form>
      )}
    </Card>
  );
}

function MethodForm({ zoneId, currencies, onSubmit }: { zoneId: string; currencies: string[]; onSubmit(input: Record<string, unknown>, done: () => void): Promise<void> }) {
  const { t } = useI18n();
  const empty = { name: "", kind: "FLAT" as ShippingMethodKind, currency: currencies[0] ?? "", amount: "", freeOver: "", bands: "" };
  const [m, setM] = useState(empty);
  function submit(e: FormEvent) {
    e.preventDefault();
    const price: Record<string, unknown> = { currencyCode: m.currency };
    if (m.kind === "WEIGHT_BANDS") price.bands = parseBands(m.bands);
    else price.amount = m.amount.trim();
    if (m.kind === "FREE_OVER") price.freeOver = m.freeOver.trim();
    void onSubmit({ zoneId, name: m.name.trim(), kind: m.kind, prices: [price] }, () => setM(empty));
  }
  const kinds: ShippingMethodKind[] = ["FLAT", "FREE_OVER", "WEIGHT_BANDS"];
  return (
    <form className="inline-form method-form" onSubmit={submit}>
      <Field id={"method-name-" + zoneId} label={t("settings.methodName")} value={m.name} onChange={(e) => setM({ ...m, name: e.target.value })} />
      <Select id={"method-kind-" + zoneId} label={t("settings.kind")} value={m.kind} onChange={(e) => setM({ ...m, kind: e.target.value as ShippingMethodKind })}
        options={kinds.map((k): [string, string] => [k, t(`settings.kind${k}` as "settings.kindFLAT")])} />
      <Select id={"method-currency-" + zoneId} label={t("settings.currency")} value={m.currency} onChange={(e) => setM({ ...m, currency: e.target.value })} options={currencies.map((c): [string, string] => [c, c])} />
      {m.kind === "WEIGHT_BANDS"
        ? <Field id={"method-bands-" + zoneId} label={t("settings.bands")} placeholder="1000=12.00, *=20.00" value={m.bands} onChange={(e) => setM({ ...m, bands: e.target.value })} />
        : <Field id={"method-amount-" + zoneId} label={t("settings.amount")} inputMode="decimal" value={m.amount} onChange={(e) => setM({ ...m, amount: e.target.value })} />}
      {m.kind === "FREE_OVER" && <Field id={"method-free-" + zoneId} label={t("settings.freeOver")} inputMode="decimal" value={m.freeOver} onChange={(e) => setM({ ...m, freeOver: e.target.value })} />}
      <Button type="submit">{t("settings.addMethod")}</Button>
    </form>
  );
}

/**
 * rateBasisPoints reads a rate typed in per cent ("13", "6.5", "6,5") as
 * basis points, or null when it is not one: an empty field is not 0 %, and
 * text is not the old rate.
 */
function rateBasisPoints(typed: string): number | null {
  const m = /^\s*(\d{1,3})(?:[.,](\d{1,2}))?\s*%?\s*$/.exec(typed);
  if (!m) return null;
  const bp = Number(m[1]) * 100 + Number((m[2] ?? "").padEnd(2, "0"));
  return bp <= 10000 ? bp : null;
}

function TaxCard({ rates, onChanged }: { rates: Rate[]; onChanged(): Promise<void> }) {
  const { t } = useI18n();
  const { can } = useSession();
  const rw = can("settings:write");
  const [r, setR] = useState({ country: "", region: "", name: "", rate: "" });
  const [edits, setEdits] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  async function run(query: string, vars: Record<string, unknown>, after?: () => void) {
    setError(null);
    try {
      await mutate(query, vars);
      after?.();
      await onChanged();
    } catch (e) {
      setError(e);
    }
  }
  return (
    <Card title={t("settings.taxes")}>
      <ErrorBanner error={error} />
      {rates.length === 0 && <EmptyState title={t("settings.taxesEmpty")}>{t("settings.taxesEmptyHint")}</EmptyState>}
      {rates.length > 0 && (
        <Table<Rate> rows={rates} rowKey={(x) => x.id} columns={[
          { header: t("settings.country"), cell: (x) => x.country },
          { header: t("settings.region"), cell: (x) => x.region || <span className="muted">{t("settings.wholeCountry")}</span> },
          { header: t("settings.taxName"), cell: (x) => x.name },
          { header: t("settings.rate"), align: "end", cell: (x) => rw
            ? <input className="rate-input" data-rate={x.country + (x.region ? "-" + x.region : "")} aria-label={t("settings.rate")} inputMode="decimal" value={edits[x.id] ?? String(x.basisPoints / 100)} onChange={(e) => setEdits({ ...edits, [x.id]: e.target.value })} />
            : `${x.basisPoints / 100} %` },
          { header: "", cell: (x) => rw && (
            <span className="row-actions">
              {edits[x.id] !== undefined && <Button variant="plain" data-save-rate={x.country + (x.region ? "-" + x.region : "")} onClick={() => {
                const basisPoints = rateBasisPoints(edits[x.id] ?? "");
                if (basisPoints === null) {
                  setError(new Error(t("settings.rateInvalid")));
                  return;
                }
                void run(TAX_UPDATE, { input: { id: x.id, basisPoints } }, () => setEdits(Object.fromEntries(Object.entries(edits).filter(([k]) => k !== x.id))));
              }}>{t("settings.saveRate")}</Button>}
              <Button variant="plain" onClick={() => { if (confirm(t("common.confirmDelete"))) void run(TAX_DELETE, { id: x.id }); }}>{t("settings.delete")}</Button>
            </span>
          ) },
        ]} />
      )}
      {rw && (
        <form className="inline-form" id="tax-form" onSubmit={(e) => {
          e.preventDefault();
          const basisPoints = rateBasisPoints(r.rate);
          if (basisPoints === null) {
            setError(new Error(t("settings.rateInvalid")));
            return;
          }
          void run(TAX_CREATE, { input: { country: r.country.trim().toUpperCase(), region: r.region.trim().toUpperCase(), name: r.name.trim(), basisPoints } }, () => setR({ country: "", region: "", name: "", rate: "" }));
        }}>
          <Field id="tax-country" label={t("settings.country")} maxLength={2} value={r.country} onChange={(e) => setR({ ...r, country: e.target.value })} />
          <Field id="tax-region" label={t("settings.region")} value={r.region} onChange={(e) => setR({ ...r, region: e.target.value })} />
          <Field id="tax-name" label={t("settings.taxName")} value={r.name} onChange={(e) => setR({ ...r, name: e.target.value })} />
          <Field id="tax-rate" label={t("settings.rate")} inputMode="decimal" value={r.rate} onChange={(e) => setR({ ...r, rate: e.target.value })} />
          <Button type="submit" id="tax-add">{t("settings.addRate")}</Button>
        </form>
      )}
    </Card>
  );
}
