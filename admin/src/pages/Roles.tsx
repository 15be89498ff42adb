// Roles: every role with its permissions as a matrix of object × action,
// editable by staff with role write (the owner role never changes), and
// the form that creates a role.
import { useState, type FormEvent } from "react";
import { Link, useLocation } from "wouter";
import { check, gql } from "../api/client";
import type { PermissionObject, Role, UserError } from "../api/schema";
import { useI18n } from "../i18n";
import { useSession } from "../session";
import { Badge, Button, Card, EmptyState, ErrorBanner, Field, Spinner } from "../ui";
import { Gate, Notice, useQuery } from "./Gate";

const ROLES = `query Roles { roles { name description builtIn permissions } permissionCatalog { object actions } }`;
const UPDATE = `mutation($input: RoleUpdateInput!) { roleUpdate(input: $input) { role { name } userErrors { code field message } } }`;
const CREATE = `mutation($input: RoleCreateInput!) { roleCreate(input: $input) { role { name } userErrors { code field message } } }`;
const DELETE = `mutation($input: RoleDeleteInput!) { roleDelete(input: $input) { deletedRoleName userErrors { code field message } } }`;

/** The owner role holds everything and cannot change. */
const OWNER = "owner";

/**
 * A role's name and description in the staff member's language: the
 * built-in roles' names, and their descriptions as the server seeded
 * them, are translated; what staff wrote (custom roles, an edited
 * description) shows as written.
 */
export function useRoleWords() {
  const { maybe, known } = useI18n();
  return {
    name: (role: string) => maybe(`role.${role}`, role),
    description: (role: Pick<Role, "name" | "description">) => known(`roleDescription.${role.name}`, role.description),
  };
}

/** A role's name, and its code beside it, muted, when the name is a translation (staff read the code in docs and on the command line). */
export function RoleName({ name }: { name: string }) {
  const words = useRoleWords();
  const shown = words.name(name);
  return shown === name ? <>{name}</> : <>{shown} <code className="muted role-code">{name}</code></>;
}

export function Roles({ name }: { name?: string }) {
  return (
    <Gate permission="role:read">
      <RolesScreen name={name} />
    </Gate>
  );
}

function RolesScreen({ name }: { name?: string }) {
  const { t } = useI18n();
  const words = useRoleWords();
  const { can } = useSession();
  const [, navigate] = useLocation();
  const { data, error, reload } = useQuery<{ roles: Role[]; permissionCatalog: PermissionObject[] }>(ROLES, {});
  const [notice, setNotice] = useState("");
  if (error && !data) return <div className="page"><ErrorBanner error={error} onRetry={() => void reload()} retryLabel={t("common.retry")} /></div>;
  if (!data) return <div className="page"><Spinner label={t("common.loading")} /></div>;
  const creating = name === "new";
  const selected = creating ? null : data.roles.find((r) => r.name === (name ?? data.roles[0]?.name)) ?? null;
  return (
    <div className="page">
      <div className="page-header">
        <div>
          {can("staff:read") && <Link href="/staff" className="back">← {t("nav.staff")}</Link>}
          <h1>{t("nav.roles")}</h1>
        </div>
        {can("role:write") && !creating && <Link href="/roles/new" className="btn btn-primary" id="new-role">{t("roles.new")}</Link>}
      </div>
      <Notice>{notice}</Notice>
      <div className="columns roles-layout">
        <div className="main-col">
          {/* The notice follows the reload: a saved role's form remounts
              with the new permissions (its key), and text typed into it
              before would be lost. */}
          {creating ? (
            <RoleForm key="new" catalog={data.permissionCatalog} role={null}
              onSaved={async (n, msg) => { await reload(); setNotice(msg); navigate("/roles/" + n); }} />
          ) : selected ? (
            <RoleForm key={selected.name + selected.permissions.join()} catalog={data.permissionCatalog} role={selected}
              onSaved={async (n, msg) => { await reload(); setNotice(msg); navigate(n ? "/roles/" + n : "/roles"); }} />
          ) : (
            <EmptyState title={t("roles.notFound")}><Link href="/roles">{t("nav.roles")}</Link></EmptyState>
          )}
        </div>
        <div className="side-col">
          <Card title={t("roles.all")}>
            <ul className="role-list">
              {data.roles.map((r) => (
                <li key={r.name}>
                  <Link href={"/roles/" + r.name} className={r.name === selected?.name ? "role-item active" : "role-item"} data-role={r.name}>
                    <strong><RoleName name={r.name} /></strong> {r.builtIn && <Badge value="OPEN" label={t("roles.builtIn")} />}
                    <div className="muted">{words.description(r)}</div>
                  </Link>
                </li>
              ))}
            </ul>
          </Card>
        </div>
      </div>
    </div>
  );
}

/** The actions in the order the matrix shows them: plain ones first, :own ones after. */
const knownActions = ["read", "write", "erase", "register", "read:own", "write:own", "erase:own"] as const;
type KnownAction = (typeof knownActions)[number];

function actionColumns(catalog: PermissionObject[]): string[] {
  const all = new Set(catalog.flatMap((o) => o.actions));
  const order: readonly string[] = knownActions;
  return [...order.filter((a) => all.has(a)), ...[...all].filter((a) => !order.includes(a)).sort()];
}

function isKnown(a: string): a is KnownAction {
  return (knownActions as readonly string[]).includes(a);
}

function RoleForm({ catalog, role, onSaved }: { catalog: PermissionObject[]; role: Role | null; onSaved(name: string, notice: string): Promise<void> }) {
  const { t, maybe } = useI18n();
  const words = useRoleWords();
  const { can } = useSession();
  const isOwner = role?.name === OWNER;
  const editable = can("role:write") && !isOwner;
  const [name, setName] = useState(role?.name ?? "");
  // The description as typed; null until then, when the field shows the
  // role's own in the staff member's language and a save leaves it alone
  // (a translated default is not written back as the role's text).
  const [typedDescription, setDescription] = useState<string | null>(null);
  const description = typedDescription ?? (role ? words.description(role) : "");
  const [perms, setPerms] = useState<Set<string>>(new Set(role?.permissions ?? []));
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const columns = actionColumns(catalog);
  const actionLabel = (a: string) => (isKnown(a) ? t(`action.${a}`) : a);
  const holds = (p: string) => isOwner || perms.has(p) || perms.has("*:*");

  function toggle(p: string, on: boolean) {
    const next = new Set(perms);
    if (on) next.add(p);
    else next.delete(p);
    setPerms(next);
  }
  async function run(doc: string, input: Record<string, unknown>, after: string, msg: string) {
    setError(null);
    setBusy(true);
    try {
      const d = await gql<Record<string, { userErrors: UserError[] }>>(doc, { input });
      check(Object.values(d)[0]);
      await onSaved(after, msg);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  function submit(e: FormEvent) {
    e.preventDefault();
    const permissions = [...perms].sort();
    if (role) void run(UPDATE, { name: role.name, description: typedDescription, permissions }, role.name, t("roles.saved", { role: words.name(role.name) }));
    else void run(CREATE, { name: name.trim(), description, permissions }, name.trim(), t("roles.created", { role: name.trim() }));
  }

  return (
    <Card title={role ? <><span id="role-name">{words.name(role.name)}</span>{words.name(role.name) !== role.name && <> <code className="muted role-code">{role.name}</code></>}</> : t("roles.new")}
      actions={role && !role.builtIn && can("role:write") ? (
        <Button variant="critical" id="delete-role" disabled={busy}
          onClick={() => { if (window.confirm(t("roles.deleteConfirm", { role: role.name }))) void run(DELETE, { name: role.name }, "", t("roles.deleted", { role: role.name })); }}>
          {t("roles.delete")}
        </Button>
      ) : undefined}>
      <form className="stack" id="role-form" onSubmit={submit}>
        <ErrorBanner error={error} />
        {isOwner && <p className="banner banner-info" id="owner-readonly">{t("roles.ownerReadOnly")}</p>}
        {!isOwner && !can("role:write") && <p className="muted">{t("roles.readOnly")}</p>}
        {!role && <Field id="role-name-input" label={t("roles.name")} placeholder="stock-clerk" pattern="[a-z0-9_\-]{2,40}" title={t("roles.nameRule")} value={name} onChange={(e) => setName(e.target.value)} required />}
        <Field id="role-description" label={t("roles.description")} value={description} disabled={!editable && !!role} onChange={(e) => setDescription(e.target.value)} />
        <div className="table-wrap">
          <table className="table matrix" id="permission-matrix">
            <thead>
              <tr>
                <th>{t("roles.object")}</th>
                {columns.map((a) => <th key={a} className="center" title={a}>{actionLabel(a)}</th>)}
              </tr>
            </thead>
            <tbody>
              {catalog.map((o) => (
                <tr key={o.object}>
                  <th scope="row" className="perm-object">{maybe(`permObject.${o.object}`, o.object)} <code className="muted">{o.object}</code></th>
                  {columns.map((a) => {
                    const p = `${o.object}:${a}`;
                    return (
                      <td key={a} className="center">
                        {o.actions.includes(a) && (
                          <input type="checkbox" data-perm={p} title={p} checked={holds(p)} disabled={!editable && !!role}
                            aria-label={t("roles.permission", { object: maybe(`permObject.${o.object}`, o.object), action: actionLabel(a) })}
                            onChange={(e) => toggle(p, e.target.checked)} />
                        )}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {(editable || !role) && <div><Button type="submit" variant="primary" id="save-role" disabled={busy}>{role ? t("roles.save") : t("roles.create")}</Button></div>}
      </form>
    </Card>
  );
}
