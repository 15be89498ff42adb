import { useCallback, useEffect, useState, type FormEvent } from "react";
import { Link, useLocation } from "wouter";
import { check, gql, UserErrors } from "../api/client";
import type { EventDelivery, EventDeliveryStatus, Plugin, UserError } from "../api/schema";
import { formatDate, useI18n } from "../i18n";
import { useSession } from "../session";
import { Badge, Button, Card, EmptyState, ErrorBanner, Select, Spinner, Table } from "../ui";

const FIELDS = `id kind displayName description version protocolVersion capabilities enabled
  health { status message checkedAt } settings secretFields { name isSet } configSchema`;
type PluginView = Pick<Plugin, "id" | "kind" | "displayName" | "description" | "version" | "protocolVersion" | "capabilities" | "enabled" | "health" | "secretFields"> & {
  settings: Record<string, unknown>;
  configSchema: JSONSchema;
};
const PLUGINS = `query Plugins { plugins { id kind displayName version enabled health { status message checkedAt } } }`;
const PLUGIN = `query Plugin($id: ID!) { plugin(id: $id) { ${FIELDS} } }`;
const UPDATE = `mutation Update($input: PluginSettingsUpdateInput!) { pluginSettingsUpdate(input: $input) { plugin { ${FIELDS} } userErrors { field message code } } }`;
const ENABLE = `mutation Enable($id: ID!) { pluginEnable(input: { id: $id }) { plugin { ${FIELDS} } userErrors { field message code } } }`;
const DISABLE = `mutation Disable($id: ID!) { pluginDisable(input: { id: $id }) { plugin { ${FIELDS} } userErrors { field message code } } }`;
const HEALTH = `mutation Health($id: ID!) { pluginHealthCheck(input: { id: $id }) { health { status message checkedAt } userErrors { field message code } } }`;
const DELIVERIES = `query Deliveries($first: Int, $after: String, $status: EventDeliveryStatus) {
  eventDeliveries(first: $first, after: $after, status: $status) {
    nodes { consumer eventId subject status attempts lastError lastAttemptAt replayedBy }
    pageInfo { hasNextPage endCursor }
  }
}`;
const REPLAY = `mutation Replay($input: EventDeliveryReplayInput!) { eventDeliveryReplay(input: $input) { delivery { consumer eventId subject status attempts lastError lastAttemptAt replayedBy } userErrors { field message code } } }`;

/** The part of JSON Schema the settings form understands. */
export interface JSONSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  properties?: Record<string, JSONSchema>;
  required?: string[];
  enum?: unknown[];
  default?: unknown;
  writeOnly?: boolean;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
}

const healthTone: Record<string, string> = { SERVING: "PAID", DEGRADED: "PENDING", NOT_SERVING: "FAILED", UNAVAILABLE: "FAILED", UNKNOWN: "UNKNOWN", STOPPED: "VOIDED" };

/** The plugins and the delivery log. */
export function Plugins() {
  const { t, label, lang } = useI18n();
  const [, navigate] = useLocation();
  const [plugins, setPlugins] = useState<PluginView[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(async () => {
    setError(null);
    try {
      setPlugins((await gql<{ plugins: PluginView[] }>(PLUGINS)).plugins);
    } catch (e) {
      setError(e);
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);
  return (
    <div className="page">
      <div className="page-header"><h1>{t("plugins.title")}</h1></div>
      <Card>
        <ErrorBanner error={error} onRetry={() => void load()} retryLabel={t("common.retry")} />
        {!plugins && !error && <Spinner label={t("common.loading")} />}
        {plugins && plugins.length === 0 && <EmptyState title={t("plugins.empty")}>{t("plugins.emptyHint")}</EmptyState>}
        {plugins && plugins.length > 0 && (
          <Table<PluginView> rows={plugins} rowKey={(p) => p.id} onRowClick={(p) => navigate("/plugins/" + encodeURIComponent(p.id))} columns={[
            { header: t("plugins.title"), cell: (p) => <a href={"/admin/plugins/" + encodeURIComponent(p.id)} className="order-link plugin-link" onClick={(e) => { e.preventDefault(); navigate("/plugins/" + encodeURIComponent(p.id)); }}>{p.displayName} <span className="muted">{p.id}</span></a> },
            { header: t("plugins.kind"), cell: (p) => label("pluginKind", p.kind) },
            { header: t("plugins.version"), cell: (p) => p.version },
            { header: t("plugins.enabled"), cell: (p) => <Badge value={p.enabled ? "PAID" : "VOIDED"} label={p.enabled ? t("plugins.on") : t("plugins.off")} /> },
            { header: t("plugins.health"), cell: (p) => <span title={p.health.message}><Badge value={healthTone[p.health.status] ?? "UNKNOWN"} label={label("pluginHealth", p.health.status)} />{p.health.checkedAt && <span className="muted"> {formatDate(p.health.checkedAt, lang)}</span>}</span> },
          ]} />
        )}
      </Card>
      <Deliveries />
    </div>
  );
}

/** One plugin: actions, health and its settings form. */
export function PluginDetail({ id }: { id: string }) {
  const { t, label, lang } = useI18n();
  const { can } = useSession();
  const mayWrite = can("plugin:write");
  const [p, setP] = useState<PluginView | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState("");
  const [busy, setBusy] = useState(false);
  const load = useCallback(async () => {
    setError(null);
    try {
      const d = await gql<{ plugin: PluginView | null }>(PLUGIN, { id });
      if (!d.plugin) throw new Error(t("plugins.empty"));
      setP(d.plugin);
    } catch (e) {
      setError(e);
    }
  }, [id, t]);
  useEffect(() => {
    void load();
  }, [load]);
  async function act(query: string, key: "pluginEnable" | "pluginDisable") {
    setBusy(true);
    setError(null);
    setNotice("");
    try {
      const d = await gql<Record<string, { plugin: PluginView | null; userErrors: UserError[] }>>(query, { id });
      setP(check(d[key]).plugin);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  async function health() {
    setBusy(true);
    setError(null);
    try {
      const d = await gql<{ pluginHealthCheck: { health: PluginView["health"] | null; userErrors: UserError[] } }>(HEALTH, { id });
      const h = check(d.pluginHealthCheck).health;
      if (h && p) setP({ ...p, health: h });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  if (!p) {
    return (
      <div className="page">
        <ErrorBanner error={error} onRetry={() => void load()} retryLabel={t("common.retry")} />
        {!error && <Spinner label={t("common.loading")} />}
      </div>
    );
  }
  return (
    <div className="page">
      <div className="page-header">
        <div>
          <Link className="back" href="/plugins">← {t("plugins.title")}</Link>
          <h1>{p.displayName}</h1>
          <div className="badges">
            <Badge value={p.enabled ? "PAID" : "VOIDED"} label={p.enabled ? t("plugins.on") : t("plugins.off")} />
            <Badge value={healthTone[p.health.status] ?? "UNKNOWN"} label={label("pluginHealth", p.health.status)} />
            <span className="muted">{p.id} · v{p.version}</span>
          </div>
        </div>
        <div className="actions">
          <Button id="plugin-health" disabled={busy || !p.enabled} onClick={() => void health()}>{t("plugins.check")}</Button>
          {mayWrite && (p.enabled
            ? <Button id="plugin-disable" disabled={busy} onClick={() => void act(DISABLE, "pluginDisable")}>{t("plugins.disable")}</Button>
            : <Button id="plugin-enable" variant="primary" disabled={busy} onClick={() => void act(ENABLE, "pluginEnable")}>{t("plugins.enable")}</Button>)}
        </div>
      </div>
      <ErrorBanner error={error} />
      {notice && <div className="banner banner-success" role="status">{notice}</div>}
      <Card>
        <p>{p.description}</p>
        {p.health.message && <p className="muted">{p.health.message}{p.health.checkedAt && " · " + t("plugins.checkedAt", { at: formatDate(p.health.checkedAt, lang) })}</p>}
        {p.capabilities.length > 0 && <p className="muted">{t("plugins.capabilities")}: {p.capabilities.join(", ")}</p>}
      </Card>
      <Card title={t("plugins.settings")}>
        {!mayWrite && <p className="muted">{t("plugins.readOnly")}</p>}
        <SettingsForm key={p.id + p.enabled} plugin={p} readOnly={!mayWrite} onSaved={(np) => { setP(np); setNotice(t("plugins.saved")); }} />
      </Card>
    </div>
  );
}

interface Leaf {
  path: string[];
  schema: JSONSchema;
  required: boolean;
}

/** The leaves of a settings schema: nested objects are walked, secrets and free-form objects are leaves. */
function leaves(s: JSONSchema, path: string[] = []): Leaf[] {
  const out: Leaf[] = [];
  for (const [name, prop] of Object.entries(s.properties ?? {})) {
    const p = [...path, name];
    if (typeOf(prop) === "object" && prop.properties && !prop.writeOnly) out.push(...leaves(prop, p));
    else out.push({ path: p, schema: prop, required: (s.required ?? []).includes(name) });
  }
  return out;
}

function typeOf(s: JSONSchema): string {
  const t = Array.isArray(s.type) ? s.type.find((x) => x !== "null") : s.type;
  return t ?? (s.enum ? "string" : "object");
}

function getPath(o: unknown, path: string[]): unknown {
  let cur = o;
  for (const k of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

function setPath(o: Record<string, unknown>, path: string[], v: unknown) {
  let cur = o;
  for (const k of path.slice(0, -1)) {
    if (cur[k] === null || typeof cur[k] !== "object") cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  }
  const last = path[path.length - 1];
  if (v === undefined) delete cur[last];
  else cur[last] = v;
}

/** What an input shows for a non-secret value. */
function initial(leaf: Leaf, settings: unknown): string | boolean {
  const v = getPath(settings, leaf.path);
  const ty = typeOf(leaf.schema);
  if (ty === "boolean") return typeof v === "boolean" ? v : leaf.schema.default === true;
  if (v === undefined || v === null) return "";
  if (ty === "object" || ty === "array") return JSON.stringify(v, null, 2);
  return String(v);
}

/**
 * The settings form generated from the plugin's JSON Schema. Secret
 * (writeOnly) fields are never filled: they show whether a value is
 * stored and take a replacement, sent only when typed.
 */
function SettingsForm({ plugin, readOnly, onSaved }: { plugin: PluginView; readOnly: boolean; onSaved(p: PluginView): void }) {
  const { t } = useI18n();
  const fields = leaves(plugin.configSchema);
  const [values, setValues] = useState<Record<string, string | boolean>>(() =>
    Object.fromEntries(fields.filter((f) => !f.schema.writeOnly).map((f) => [f.path.join("."), initial(f, plugin.settings)])));
  const [secrets, setSecrets] = useState<Record<string, string>>({});
  const [clear, setClear] = useState<Record<string, boolean>>({});
  const [problems, setProblems] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  if (fields.length === 0) return <EmptyState title={t("plugins.noSettings")} />;
  const isSet = (name: string) => plugin.secretFields.find((s) => s.name === name)?.isSet ?? false;

  async function submit(e: FormEvent) {
    e.preventDefault();
    const local: Record<string, string> = {};
    const out = JSON.parse(JSON.stringify(plugin.settings ?? {})) as Record<string, unknown>;
    for (const f of fields) {
      const name = f.path.join(".");
      const ty = typeOf(f.schema);
      if (f.schema.writeOnly) {
        const typed = secrets[name] ?? "";
        if (clear[name]) setPath(out, f.path, null);
        else if (typed !== "") {
          if (ty === "object" || ty === "array") {
            try {
              setPath(out, f.path, JSON.parse(typed));
            } catch {
              local[name] = t("plugins.invalidJSON");
            }
          } else setPath(out, f.path, typed);
        } else setPath(out, f.path, undefined);
        continue;
      }
      const v = values[name];
      if (ty === "boolean") setPath(out, f.path, v === true);
      else if (v === "") setPath(out, f.path, undefined);
      else if (ty === "integer" || ty === "number") {
        const n = Number(v);
        if (!Number.isFinite(n) || (ty === "integer" && !Number.isInteger(n))) local[name] = t("plugins.invalidNumber");
        else setPath(out, f.path, n);
      } else if (ty === "object" || ty === "array") {
        try {
          setPath(out, f.path, JSON.parse(String(v)));
        } catch {
          local[name] = t("plugins.invalidJSON");
        }
      } else setPath(out, f.path, v);
    }
    setProblems(local);
    setError(null);
    if (Object.keys(local).length > 0) return;
    setBusy(true);
    try {
      const d = await gql<{ pluginSettingsUpdate: { plugin: PluginView | null; userErrors: UserError[] } }>(UPDATE, { input: { id: plugin.id, settings: out } });
      const p = check(d.pluginSettingsUpdate).plugin;
      setSecrets({});
      setClear({});
      if (p) onSaved(p);
    } catch (err) {
      if (err instanceof UserErrors) {
        // input.settings.smtp.host -> smtp.host; the rest stays on top.
        const byField: Record<string, string> = {};
        const rest: UserError[] = [];
        for (const u of err.errors) {
          const f = (u.field ?? []).slice(2).join(".");
          if (f && fields.some((x) => x.path.join(".") === f)) byField[f] = `${u.message} (${u.code})`;
          else rest.push(u);
        }
        setProblems(byField);
        setError(rest.length > 0 ? new UserErrors(rest) : null);
      } else setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    // noValidate: the server judges the settings against the schema and
    // its answers show under each field, in one place and one style.
    <form className="stack" id="plugin-settings" noValidate onSubmit={(e) => void submit(e)}>
      <ErrorBanner error={error} />
      {fields.map((f) => {
        const name = f.path.join(".");
        const id = "setting-" + name.replace(/[^A-Za-z0-9_-]/g, "-");
        const ty = typeOf(f.schema);
        const label = (f.schema.title ?? f.path[f.path.length - 1]) + (f.required ? ` (${t("plugins.required")})` : "");
        const hint = f.schema.description && <p className="muted field-hint">{f.schema.description}</p>;
        const problem = problems[name] && <p className="field-error" role="alert">{problems[name]}</p>;
        if (f.schema.writeOnly) {
          const set = isSet(name);
          return (
            <div className="field secret-field" key={name}>
              <label htmlFor={id}>{label} <Badge value={set ? "PAID" : "PENDING"} label={set ? t("plugins.secretSet") : t("plugins.secretNotSet")} /></label>
              {ty === "object" || ty === "array"
                ? <textarea id={id} rows={4} placeholder={t("plugins.replace")} value={secrets[name] ?? ""} disabled={readOnly || clear[name]} autoComplete="off" onChange={(e) => setSecrets({ ...secrets, [name]: e.target.value })} />
                : <input id={id} type="password" placeholder={t("plugins.replace")} value={secrets[name] ?? ""} disabled={readOnly || clear[name]} autoComplete="new-password" onChange={(e) => setSecrets({ ...secrets, [name]: e.target.value })} />}
              <p className="muted field-hint">{t("plugins.replaceHint")}</p>
              {set && !f.required && !readOnly && (
                <label className="check"><input type="checkbox" checked={clear[name] ?? false} onChange={(e) => setClear({ ...clear, [name]: e.target.checked })} /> {t("plugins.clear")}</label>
              )}
              {hint}
              {problem}
            </div>
          );
        }
        const v = values[name];
        const set = (nv: string | boolean) => setValues({ ...values, [name]: nv });
        if (ty === "boolean") {
          return (
            <div className="field" key={name}>
              <label className="check"><input id={id} type="checkbox" checked={v === true} disabled={readOnly} onChange={(e) => set(e.target.checked)} /> {label}</label>
              {hint}
              {problem}
            </div>
          );
        }
        if (f.schema.enum) {
          const opts: Array<[string, string]> = [["", f.schema.default !== undefined ? `— (${String(f.schema.default)})` : "—"], ...f.schema.enum.map((x): [string, string] => [String(x), String(x)])];
          return (
            <div key={name}>
              <Select id={id} label={label} value={String(v)} disabled={readOnly} options={opts} onChange={(e) => set(e.target.value)} />
              {hint}
              {problem}
            </div>
          );
        }
        const multiline = ty === "object" || ty === "array" || (f.schema.maxLength ?? 0) > 500;
        return (
          <div className="field" key={name}>
            <label htmlFor={id}>{label}</label>
            {multiline
              ? <textarea id={id} rows={4} value={String(v)} disabled={readOnly} onChange={(e) => set(e.target.value)} />
              : <input id={id} type={ty === "integer" || ty === "number" ? "number" : "text"} min={f.schema.minimum} max={f.schema.maximum}
                  placeholder={f.schema.default !== undefined ? String(f.schema.default) : undefined} value={String(v)} disabled={readOnly} onChange={(e) => set(e.target.value)} />}
            {hint}
            {problem}
          </div>
        );
      })}
      {!readOnly && <div><Button type="submit" variant="primary" id="plugin-save" disabled={busy}>{t("plugins.save")}</Button></div>}
    </form>
  );
}

type Delivery = Pick<EventDelivery, "consumer" | "eventId" | "subject" | "status" | "attempts" | "lastError" | "lastAttemptAt" | "replayedBy">;
const deliveryStatuses: EventDeliveryStatus[] = ["DEAD", "RETRYING", "DELIVERED", "REPLAYING"];
const deliveryTone: Record<string, string> = { DELIVERED: "PAID", RETRYING: "PENDING", DEAD: "FAILED", REPLAYING: "OPEN" };

/** The delivery journal with dead-letter replay. */
function Deliveries() {
  const { t, label, lang } = useI18n();
  const { can } = useSession();
  const [status, setStatus] = useState<string>("DEAD");
  const [after, setAfter] = useState<string | null>(null);
  const [data, setData] = useState<{ nodes: Delivery[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState("");
  const [busy, setBusy] = useState("");
  const load = useCallback(async () => {
    setError(null);
    try {
      const d = await gql<{ eventDeliveries: NonNullable<typeof data> }>(DELIVERIES, { first: 25, after, status: status || null });
      setData(d.eventDeliveries);
    } catch (e) {
      setError(e);
    }
  }, [status, after]);
  useEffect(() => {
    void load();
  }, [load]);
  async function replay(d: Delivery) {
    setBusy(d.consumer + d.eventId);
    setError(null);
    setNotice("");
    try {
      const r = await gql<{ eventDeliveryReplay: { delivery: Delivery | null; userErrors: UserError[] } }>(REPLAY, { input: { consumer: d.consumer, eventId: d.eventId } });
      check(r.eventDeliveryReplay);
      setNotice(t("deliveries.replayed"));
    } catch (e) {
      setError(e);
    } finally {
      setBusy("");
      void load();
    }
  }
  return (
    <Card title={t("deliveries.title")}>
      <p className="muted">{t("deliveries.intro")}</p>
      <div className="filters">
        <Select id="delivery-status" label={t("deliveries.status")} value={status} onChange={(e) => { setAfter(null); setStatus(e.target.value); }}
          options={[["", t("common.all")], ...deliveryStatuses.map((s): [string, string] => [s, label("deliveryStatus", s)])]} />
      </div>
      <ErrorBanner error={error} onRetry={() => void load()} retryLabel={t("common.retry")} />
      {notice && <div className="banner banner-success" role="status">{notice}</div>}
      {!data && !error && <Spinner label={t("common.loading")} />}
      {data && data.nodes.length === 0 && <EmptyState title={t("deliveries.empty")}>{t("deliveries.emptyHint")}</EmptyState>}
      {data && data.nodes.length > 0 && (
        <Table<Delivery> rows={data.nodes} rowKey={(d) => d.consumer + "/" + d.eventId} columns={[
          { header: t("deliveries.subject"), cell: (d) => <code>{d.subject}</code> },
          { header: t("deliveries.consumer"), cell: (d) => d.consumer },
          { header: t("deliveries.status"), cell: (d) => <Badge value={deliveryTone[d.status] ?? "UNKNOWN"} label={label("deliveryStatus", d.status)} /> },
          { header: t("deliveries.attempts"), cell: (d) => d.attempts, align: "end" },
          { header: t("deliveries.when"), cell: (d) => formatDate(d.lastAttemptAt, lang) },
          { header: t("deliveries.lastError"), cell: (d) => <span className="wrap">{d.lastError ?? ""}</span> },
          { header: "", cell: (d) => d.status === "DEAD" && can("plugin:write") && <Button disabled={busy !== ""} onClick={() => void replay(d)}>{t("deliveries.replay")}</Button> },
        ]} />
      )}
      <div className="pager">
        {after && <Button onClick={() => setAfter(null)}>{t("common.first")}</Button>}
        {data?.pageInfo.hasNextPage && <Button onClick={() => setAfter(data.pageInfo.endCursor)}>{t("common.next")}</Button>}
      </div>
    </Card>
  );
}
