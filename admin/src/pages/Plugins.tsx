import { useCallback, useEffect, useRef, useState, type FormEvent } from "react";
import { Link, useLocation } from "wouter";
import { check, gql, UserErrors } from "../api/client";
import type { EventDelivery, EventDeliveryStatus, Plugin, UserError } from "../api/schema";
import { formatDate, localized, useI18n, type Key } from "../i18n";
import { useSession } from "../session";
import { Badge, Button, Card, EmptyState, ErrorBanner, Select, Spinner, Table } from "../ui";

// Names, descriptions and settings' titles come in the staff member's
// language when the plugin gives it ($lang), else in its own.
const FIELDS = `id kind displayName(language: $lang) description(language: $lang) version protocolVersion capabilities enabled
  health { status message checkedAt } settings secretFields { name isSet } configSchema`;
type PluginView = Pick<Plugin, "id" | "kind" | "displayName" | "description" | "version" | "protocolVersion" | "capabilities" | "enabled" | "health" | "secretFields"> & {
  settings: Record<string, unknown>;
  configSchema: JSONSchema;
};
const PLUGINS = `query Plugins($lang: String) { plugins { id kind displayName(language: $lang) version enabled health { status message checkedAt } } }`;
const PLUGIN = `query Plugin($id: ID!, $lang: String) { plugin(id: $id) { ${FIELDS} } }`;
const UPDATE = `mutation Update($input: PluginSettingsUpdateInput!, $lang: String) { pluginSettingsUpdate(input: $input) { plugin { ${FIELDS} } userErrors { field message code } } }`;
const ENABLE = `mutation Enable($id: ID!, $lang: String) { pluginEnable(input: { id: $id }) { plugin { ${FIELDS} } userErrors { field message code } } }`;
const DISABLE = `mutation Disable($id: ID!, $lang: String) { pluginDisable(input: { id: $id }) { plugin { ${FIELDS} } userErrors { field message code } } }`;
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
  items?: JSONSchema;
  required?: string[];
  enum?: unknown[];
  default?: unknown;
  writeOnly?: boolean;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  maxItems?: number;
  format?: string;
  /** title and description in other languages, by BCP 47 tag (plugins/sdk, Info.ConfigSchema). */
  "x-kassa-titles"?: Record<string, string>;
  "x-kassa-descriptions"?: Record<string, string>;
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
      setPlugins((await gql<{ plugins: PluginView[] }>(PLUGINS, { lang })).plugins);
    } catch (e) {
      setError(e);
    }
  }, [lang]);
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
  const [notice, setNotice] = useState<Key | "">("");
  const [busy, setBusy] = useState(false);
  const load = useCallback(async () => {
    setError(null);
    try {
      const d = await gql<{ plugin: PluginView | null }>(PLUGIN, { id, lang });
      if (!d.plugin) throw new Error(t("plugins.empty"));
      setP(d.plugin);
    } catch (e) {
      setError(e);
    }
  }, [id, lang, t]);
  useEffect(() => {
    void load();
  }, [load]);
  async function act(query: string, key: "pluginEnable" | "pluginDisable") {
    setBusy(true);
    setError(null);
    setNotice("");
    try {
      const d = await gql<Record<string, { plugin: PluginView | null; userErrors: UserError[] }>>(query, { id, lang });
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
      {notice && <div className="banner banner-success" role="status">{t(notice)}</div>}
      <Card>
        <p>{p.description}</p>
        {p.health.message && <p className="muted">{p.health.message}{p.health.checkedAt && " · " + t("plugins.checkedAt", { at: formatDate(p.health.checkedAt, lang) })}</p>}
        {p.capabilities.length > 0 && (
          <div className="capabilities" id="plugin-capabilities">
            <span className="muted">{t("plugins.capabilities")}:</span>
            {/* The code stays at hand for staff reading the plugin's documentation. */}
            {p.capabilities.map((c) => <span key={c} className="capability" title={c} data-capability={c}>{label("capability", c)}</span>)}
          </div>
        )}
      </Card>
      <Card title={t("plugins.settings")}>
        {!mayWrite && <p className="muted">{t("plugins.readOnly")}</p>}
        <SettingsForm key={p.id + p.enabled} plugin={p} readOnly={!mayWrite} onSaved={(np) => { setP(np); setNotice("plugins.saved"); }} />
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

/** An array of plain values (strings, numbers), edited one a line. */
function isList(s: JSONSchema): boolean {
  return typeOf(s) === "array" && !!s.items && ["string", "integer", "number"].includes(typeOf(s.items));
}

/** An array of objects with declared properties, edited as rows of fields. */
function isRows(s: JSONSchema): s is JSONSchema & { items: JSONSchema & { properties: Record<string, JSONSchema> } } {
  return typeOf(s) === "array" && !!s.items && typeOf(s.items) === "object" && !!s.items.properties;
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

/** What an input holds: text, or a checkbox's state. */
type Value = string | boolean;

/** What the input of a non-secret setting shows for its value v. */
function shown(s: JSONSchema, v: unknown): Value {
  const ty = typeOf(s);
  if (ty === "boolean") return typeof v === "boolean" ? v : s.default === true;
  if (v === undefined || v === null) return "";
  if (isList(s) && Array.isArray(v)) return v.map(String).join("\n");
  if (ty === "object" || ty === "array") return JSON.stringify(v, null, 2);
  return String(v);
}

/**
 * The setting a typed value stands for: value undefined for an empty
 * field (the plugin's default applies), or the problem to show under it.
 */
function parse(s: JSONSchema, v: Value, t: (key: Key) => string): { value?: unknown; problem?: string } {
  const ty = typeOf(s);
  if (ty === "boolean") return { value: v === true };
  if (v === "") return {};
  const text = String(v);
  if (ty === "integer" || ty === "number") {
    const n = Number(text);
    if (!Number.isFinite(n) || (ty === "integer" && !Number.isInteger(n))) return { problem: t("plugins.invalidNumber") };
    return { value: n };
  }
  if (isList(s) && s.items) {
    const lines = text.split("\n").map((x) => x.trim()).filter((x) => x !== "");
    if (lines.length === 0) return {};
    const itemType = typeOf(s.items);
    if (itemType === "string") return { value: lines };
    const nums = lines.map(Number);
    if (nums.some((n) => !Number.isFinite(n) || (itemType === "integer" && !Number.isInteger(n)))) return { problem: t("plugins.invalidNumber") };
    return { value: nums };
  }
  if (ty === "object" || ty === "array") {
    try {
      return { value: JSON.parse(text) };
    } catch {
      return { problem: t("plugins.invalidJSON") };
    }
  }
  return { value: v };
}

/** A setting's title and description in the staff member's language, else the schema's own. */
function useSchemaText() {
  const { t, lang } = useI18n();
  return {
    title: (s: JSONSchema, name: string, required: boolean) => {
      const title = localized(s["x-kassa-titles"], lang) ?? s.title ?? name;
      // Chinese marks it with full-width brackets and no space: 户名（必填）.
      return required ? t("plugins.required", { title }) : title;
    },
    description: (s: JSONSchema) => localized(s["x-kassa-descriptions"], lang) ?? s.description,
  };
}

/** One non-secret setting (a plain value, a list or free JSON) with its label, description and problem. */
function SettingField({ id, schema, label, value, readOnly, problem, onChange }: {
  id: string; schema: JSONSchema; label: string; value: Value; readOnly: boolean; problem?: string; onChange(v: Value): void;
}) {
  const { t } = useI18n();
  const { description } = useSchemaText();
  const ty = typeOf(schema);
  const text = description(schema);
  const after = (
    <>
      {text && <p className="muted field-hint">{text}</p>}
      {isList(schema) && <p className="muted field-hint">{t("plugins.onePerLine")}</p>}
      {problem && <p className="field-error" role="alert">{problem}</p>}
    </>
  );
  if (ty === "boolean") {
    return (
      <div className="field">
        <label className="check"><input id={id} type="checkbox" checked={value === true} disabled={readOnly} onChange={(e) => onChange(e.target.checked)} /> {label}</label>
        {after}
      </div>
    );
  }
  if (schema.enum) {
    const opts: Array<[string, string]> = [["", schema.default !== undefined ? `— (${String(schema.default)})` : "—"], ...schema.enum.map((x): [string, string] => [String(x), String(x)])];
    return (
      <div>
        <Select id={id} label={label} value={String(value)} disabled={readOnly} options={opts} onChange={(e) => onChange(e.target.value)} />
        {after}
      </div>
    );
  }
  const def = schema.default === undefined ? undefined : isList(schema) && Array.isArray(schema.default) ? schema.default.join("\n") : String(schema.default);
  // Long text is prose (a note, a template); an address is one line however long.
  const multiline = ty === "object" || ty === "array" || ((schema.maxLength ?? 0) > 500 && !schema.format);
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {multiline
        ? <textarea id={id} rows={isList(schema) ? 3 : 4} placeholder={def} value={String(value)} disabled={readOnly} onChange={(e) => onChange(e.target.value)} />
        : <input id={id} type={ty === "integer" || ty === "number" ? "number" : "text"} min={schema.minimum} max={schema.maximum}
            placeholder={def} value={String(value)} disabled={readOnly} onChange={(e) => onChange(e.target.value)} />}
      {after}
    </div>
  );
}

/** One item of an array-of-objects setting: what it held, and its fields as typed. */
interface RowState {
  key: number;
  /** The item as stored: its fields the schema does not declare go back unchanged. */
  base: Record<string, unknown>;
  values: Record<string, Value>;
}

function rowOf(s: JSONSchema & { items: { properties: Record<string, JSONSchema> } }, item: unknown, key: number): RowState {
  const base = item !== null && typeof item === "object" && !Array.isArray(item) ? (item as Record<string, unknown>) : {};
  return { key, base, values: Object.fromEntries(Object.entries(s.items.properties).map(([p, ps]) => [p, shown(ps, base[p])])) };
}

/**
 * An array of objects as rows of fields, added and removed one by one
 * (notify.webhook's endpoints). Problems are keyed by the setting's path,
 * the row's index and the field (endpoints.0.url), as the API names them.
 */
function RowsField({ id, name, schema, label, rows, readOnly, problems, onChange }: {
  id: string; name: string; schema: JSONSchema & { items: JSONSchema & { properties: Record<string, JSONSchema> } }; label: string;
  rows: RowState[]; readOnly: boolean; problems: Record<string, string>; onChange(rows: RowState[]): void;
}) {
  const { t } = useI18n();
  const { title, description } = useSchemaText();
  const next = useRef(rows.length);
  const props = Object.entries(schema.items.properties);
  const text = description(schema);
  const full = schema.maxItems !== undefined && rows.length >= schema.maxItems;
  return (
    <fieldset className="setting-rows" id={id}>
      <legend>{label}</legend>
      {text && <p className="muted field-hint">{text}</p>}
      {problems[name] && <p className="field-error" role="alert">{problems[name]}</p>}
      {rows.length === 0 && <p className="muted">{t("plugins.noRows")}</p>}
      {rows.map((r, i) => (
        <div className="setting-row" key={r.key} data-row={i}>
          <div className="setting-row-head">
            <strong>{t("plugins.row", { n: String(i + 1) })}</strong>
            {!readOnly && <Button variant="plain" className="remove-row" onClick={() => onChange(rows.filter((x) => x !== r))}>{t("plugins.removeRow")}</Button>}
          </div>
          {problems[`${name}.${i}`] && <p className="field-error" role="alert">{problems[`${name}.${i}`]}</p>}
          <div className="setting-row-fields">
            {props.map(([p, ps]) => (
              <SettingField key={p} id={`${id}-${i}-${p.replace(/[^A-Za-z0-9_-]/g, "-")}`} schema={ps} value={r.values[p]} readOnly={readOnly}
                label={title(ps, p, (schema.items.required ?? []).includes(p))} problem={problems[`${name}.${i}.${p}`]}
                onChange={(v) => onChange(rows.map((x) => (x === r ? { ...x, values: { ...x.values, [p]: v } } : x)))} />
            ))}
          </div>
        </div>
      ))}
      {!readOnly && (
        <div>
          <Button className="add-row" id={"add-" + id} disabled={full} onClick={() => onChange([...rows, rowOf(schema, undefined, next.current++)])}>{t("plugins.addRow")}</Button>
        </div>
      )}
    </fieldset>
  );
}

/**
 * The settings form generated from the plugin's JSON Schema. Secret
 * (writeOnly) fields are never filled: they show whether a value is
 * stored and take a replacement, sent only when typed.
 */
function SettingsForm({ plugin, readOnly, onSaved }: { plugin: PluginView; readOnly: boolean; onSaved(p: PluginView): void }) {
  const { t, lang } = useI18n();
  const { title, description } = useSchemaText();
  const fields = leaves(plugin.configSchema);
  const [values, setValues] = useState<Record<string, Value>>(() =>
    Object.fromEntries(fields.filter((f) => !f.schema.writeOnly && !isRows(f.schema)).map((f) => [f.path.join("."), shown(f.schema, getPath(plugin.settings, f.path))])));
  const [rows, setRows] = useState<Record<string, RowState[]>>(() =>
    Object.fromEntries(fields.filter((f) => !f.schema.writeOnly && isRows(f.schema)).map((f) => {
      const items = getPath(plugin.settings, f.path);
      return [f.path.join("."), Array.isArray(items) && isRows(f.schema) ? items.map((it, i) => rowOf(f.schema as Parameters<typeof rowOf>[0], it, i)) : []];
    })));
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
      if (isRows(f.schema)) {
        const props = Object.entries(f.schema.items.properties);
        setPath(out, f.path, (rows[name] ?? []).map((r, i) => {
          const item = { ...r.base };
          for (const [p, ps] of props) {
            const { value, problem } = parse(ps, r.values[p], t);
            if (problem) local[`${name}.${i}.${p}`] = problem;
            else if (value === undefined) delete item[p];
            else item[p] = value;
          }
          return item;
        }));
        continue;
      }
      const { value, problem } = parse(f.schema, values[name], t);
      if (problem) local[name] = problem;
      else setPath(out, f.path, value);
    }
    setProblems(local);
    setError(null);
    if (Object.keys(local).length > 0) return;
    setBusy(true);
    try {
      const d = await gql<{ pluginSettingsUpdate: { plugin: PluginView | null; userErrors: UserError[] } }>(UPDATE, { input: { id: plugin.id, settings: out }, lang });
      const p = check(d.pluginSettingsUpdate).plugin;
      setSecrets({});
      setClear({});
      if (p) onSaved(p);
    } catch (err) {
      if (err instanceof UserErrors) {
        // input.settings.smtp.host -> smtp.host, input.settings.endpoints.0.url
        // -> endpoints.0.url (a row's field); the rest stays on top.
        const byField: Record<string, string> = {};
        const rest: UserError[] = [];
        for (const u of err.errors) {
          const f = (u.field ?? []).slice(2).join(".");
          const known = fields.some((x) => x.path.join(".") === f || (isRows(x.schema) && f.startsWith(x.path.join(".") + ".")));
          if (f && known) byField[f] = `${u.message} (${u.code})`;
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
        const label = title(f.schema, f.path[f.path.length - 1], f.required);
        if (f.schema.writeOnly) {
          const set = isSet(name);
          const hint = description(f.schema);
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
              {hint && <p className="muted field-hint">{hint}</p>}
              {problems[name] && <p className="field-error" role="alert">{problems[name]}</p>}
            </div>
          );
        }
        if (isRows(f.schema)) {
          return (
            <RowsField key={name} id={id} name={name} schema={f.schema} label={label} rows={rows[name] ?? []} readOnly={readOnly} problems={problems}
              onChange={(r) => {
                // Problems name rows by index: after a change they may point at another row.
                setProblems(Object.fromEntries(Object.entries(problems).filter(([k]) => k !== name && !k.startsWith(name + "."))));
                setRows({ ...rows, [name]: r });
              }} />
          );
        }
        return (
          <SettingField key={name} id={id} schema={f.schema} label={label} value={values[name]} readOnly={readOnly} problem={problems[name]}
            onChange={(v) => setValues({ ...values, [name]: v })} />
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
  const [notice, setNotice] = useState<Key | "">("");
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
      setNotice("deliveries.replayed");
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
      {notice && <div className="banner banner-success" role="status">{t(notice)}</div>}
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
