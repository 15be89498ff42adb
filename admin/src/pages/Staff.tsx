// Staff: the members with their roles and status, open invitations, the
// invite form, changing a member's roles, and disabling or enabling a member.
import { useState, type FormEvent } from "react";
import { Link } from "wouter";
import { check, gql } from "../api/client";
import type { ApiKey, StaffInvitation, StaffMember, UserError } from "../api/schema";
import { formatDate, useI18n } from "../i18n";
import { useSession } from "../session";
import { Badge, Button, Card, EmptyState, ErrorBanner, Field, Spinner, Table } from "../ui";
import { Check, Gate, Notice, Pager, useCursor, useQuery } from "./Gate";
import { RoleName, useRoleWords } from "./Roles";

type Member = Pick<StaffMember, "id" | "email" | "name" | "status" | "roles" | "lastLoginAt" | "createdAt">;
type Invitation = Pick<StaffInvitation, "id" | "email" | "name" | "roles" | "expiresAt" | "createdAt">;

function staffQuery(roles: boolean): string {
  return `query Staff($first: Int, $after: String) {
    staffMembers(first: $first, after: $after) { nodes { id email name status roles lastLoginAt createdAt } pageInfo { hasNextPage endCursor } }
    staffInvitations { id email name roles expiresAt createdAt }
    ${roles ? "roles { name description }" : ""}
  }`;
}

const INVITE = `mutation($input: StaffInviteInput!) { staffInvite(input: $input) { invitation { id email name roles expiresAt createdAt } userErrors { code field message } } }`;
const REVOKE = `mutation($input: StaffInvitationRevokeInput!) { staffInvitationRevoke(input: $input) { invitation { id } userErrors { code field message } } }`;
const DISABLE = `mutation($input: StaffIdInput!) { staffDisable(input: $input) { staffMember { id status } revokedApiKeys { id name } userErrors { code field message } } }`;
const UPDATE = `mutation($input: StaffUpdateInput!) { staffUpdate(input: $input) { staffMember { id roles } userErrors { code field message } } }`;
const ENABLE = `mutation($input: StaffIdInput!) { staffEnable(input: $input) { staffMember { id status } userErrors { code field message } } }`;

export function Staff() {
  return (
    <Gate permission="staff:read">
      <StaffScreen />
    </Gate>
  );
}

function StaffScreen() {
  const { t, lang } = useI18n();
  const roleWords = useRoleWords();
  const { can, viewer } = useSession();
  const write = can("staff:write");
  const cursor = useCursor();
  const { data, error, reload } = useQuery<{
    staffMembers: { nodes: Member[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
    staffInvitations: Invitation[];
    roles?: Array<{ name: string; description: string }>;
  }>(staffQuery(can("role:read")), { first: 50, after: cursor.after });
  const [actionError, setActionError] = useState<unknown>(null);
  const [notice, setNotice] = useState("");
  const [invited, setInvited] = useState<Invitation | null>(null);
  const [editing, setEditing] = useState<string | null>(null);

  async function act(run: () => Promise<string>) {
    setActionError(null);
    setNotice("");
    setInvited(null);
    try {
      setNotice(await run());
      await reload();
    } catch (e) {
      setActionError(e);
    }
  }

  /** Sends the invitation and shows what the API answered; false when it refused. */
  async function invite(input: { email: string; name: string; roles: string[] }): Promise<boolean> {
    setActionError(null);
    setNotice("");
    setInvited(null);
    try {
      const d = await gql<{ staffInvite: { invitation: Invitation | null; userErrors: UserError[] } }>(INVITE, { input });
      check(d.staffInvite);
      setInvited(d.staffInvite.invitation);
      await reload();
      return true;
    } catch (e) {
      setActionError(e);
      return false;
    }
  }

  return (
    <div className="page">
      <div className="page-header">
        <h1>{t("nav.staff")}</h1>
        {can("role:read") && <Link href="/roles" className="btn btn-secondary" id="roles-link">{t("nav.roles")}</Link>}
      </div>
      <Notice>{notice}</Notice>
      {invited && (
        <div className="banner banner-success" role="status" id="invite-result">
          <p>{t("staff.invited", { email: invited.email, roles: invited.roles.map(roleWords.name).join(", "), expires: formatDate(invited.expiresAt, lang) })}</p>
          <p>{t("staff.invitedHow")}</p>
        </div>
      )}
      <ErrorBanner error={actionError} />
      {write && (
        <InviteForm roles={data?.roles ?? null} onInvite={invite} />
      )}
      <Card title={t("staff.members")}>
        <ErrorBanner error={error} onRetry={() => void reload()} retryLabel={t("common.retry")} />
        {!data && !error && <Spinner label={t("common.loading")} />}
        {data && (
          <Table<Member> rows={data.staffMembers.nodes} rowKey={(m) => m.id} columns={[
            { header: t("staff.name"), cell: (m) => <><strong className="staff-name">{m.name || m.email}</strong><div className="muted">{m.email}</div></> },
            { header: t("staff.roles"), cell: (m) => editing === m.id ? (
              <RoleEditor member={m} roles={data.roles ?? null} onCancel={() => setEditing(null)} onSaved={(roles) => {
                setEditing(null);
                setNotice(t("staff.rolesChanged", { name: m.name || m.email, roles: roles.map(roleWords.name).join(", ") }));
                void reload();
              }} />
            ) : (
              <span className="staff-roles" data-email={m.email} title={m.roles.join(", ")}>
                {m.roles.map(roleWords.name).join(", ")}
                {write && <> <Button variant="plain" className="edit-roles" data-email={m.email} onClick={() => { setNotice(""); setEditing(m.id); }}>{t("staff.editRoles")}</Button></>}
              </span>
            ) },
            { header: t("orders.status"), cell: (m) => <Badge value={m.status === "ACTIVE" ? "SUCCEEDED" : "CANCELLED"} label={t(`staffStatus.${m.status}`)} /> },
            { header: t("staff.lastLogin"), cell: (m) => (m.lastLoginAt ? formatDate(m.lastLoginAt, lang) : t("staff.never")) },
            {
              header: "",
              cell: (m) => !write || m.id === viewer?.staffMember?.id ? null : m.status === "ACTIVE" ? (
                <Button variant="critical" className="disable-staff" data-email={m.email} onClick={() => {
                  if (!window.confirm(t("staff.disableConfirm", { name: m.name || m.email }))) return;
                  void act(async () => {
                    const d = await gql<{ staffDisable: { revokedApiKeys: Array<Pick<ApiKey, "id" | "name">>; userErrors: UserError[] } }>(DISABLE, { input: { id: m.id } });
                    check(d.staffDisable);
                    const keys = d.staffDisable.revokedApiKeys.map((k) => k.name);
                    return t("staff.disabled", { name: m.name || m.email }) + (keys.length ? " " + t("staff.keysRevoked", { keys: keys.join(", ") }) : "");
                  });
                }}>{t("staff.disable")}</Button>
              ) : (
                <Button className="enable-staff" data-email={m.email} onClick={() => void act(async () => {
                  const d = await gql<{ staffEnable: { userErrors: UserError[] } }>(ENABLE, { input: { id: m.id } });
                  check(d.staffEnable);
                  return t("staff.enabled", { name: m.name || m.email });
                })}>{t("staff.enable")}</Button>
              ),
            },
          ]} />
        )}
        <Pager hasPrev={cursor.hasPrev} hasNext={!!data?.staffMembers.pageInfo.hasNextPage} onPrev={cursor.prev} onNext={() => cursor.next(data?.staffMembers.pageInfo.endCursor)} />
      </Card>
      <Card title={t("staff.invitations")}>
        {data && data.staffInvitations.length === 0 && <EmptyState title={t("staff.noInvitations")}>{write ? t("staff.noInvitationsHint") : ""}</EmptyState>}
        {data && data.staffInvitations.length > 0 && (
          <Table<Invitation> rows={data.staffInvitations} rowKey={(i) => i.id} columns={[
            { header: t("auth.email"), cell: (i) => <><span className="invitation-email">{i.email}</span>{i.name && <div className="muted">{i.name}</div>}</> },
            { header: t("staff.roles"), cell: (i) => <span title={i.roles.join(", ")}>{i.roles.map(roleWords.name).join(", ")}</span> },
            { header: t("staff.expires"), cell: (i) => formatDate(i.expiresAt, lang) },
            { header: "", cell: (i) => write ? <Button variant="plain" className="revoke-invitation" onClick={() => void act(async () => {
              const d = await gql<{ staffInvitationRevoke: { userErrors: UserError[] } }>(REVOKE, { input: { id: i.id } });
              check(d.staffInvitationRevoke);
              return t("staff.revoked", { email: i.email });
            })}>{t("staff.revoke")}</Button> : null },
          ]} />
        )}
      </Card>
    </div>
  );
}

/** Roles every buyer and guest holds: never given to staff. */
const buyerRoles = ["customer", "anonymous"];

/**
 * Replaces a member's roles with staffUpdate: checkboxes of the shop's
 * roles for a viewer who may read them, else the names typed. Refusals
 * (ROLE_NOT_HELD, LAST_OWNER, an unknown role) show in place.
 */
function RoleEditor({ member, roles, onCancel, onSaved }: { member: Member; roles: Array<{ name: string }> | null; onCancel(): void; onSaved(roles: string[]): void }) {
  const { t } = useI18n();
  const [chosen, setChosen] = useState<string[]>(member.roles);
  const [typed, setTyped] = useState(member.roles.join(", "));
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const list = roles ? chosen : typed.split(",").map((r) => r.trim()).filter(Boolean);
      const d = await gql<{ staffUpdate: { staffMember: Pick<StaffMember, "id" | "roles"> | null; userErrors: UserError[] } }>(UPDATE, { input: { id: member.id, roles: list } });
      check(d.staffUpdate);
      onSaved(d.staffUpdate.staffMember?.roles ?? list);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return (
    <form className="stack role-form" data-email={member.email} onSubmit={(e) => void submit(e)}>
      <ErrorBanner error={error} />
      {roles ? (
        <div className="role-editor">
          {roles.filter((r) => !buyerRoles.includes(r.name)).map((r) => (
            <Check key={r.name} id={`role-${member.id}-${r.name}`} value={r.name} checked={chosen.includes(r.name)}
              onChange={(e) => setChosen(e.target.checked ? [...chosen, r.name] : chosen.filter((x) => x !== r.name))} label={<RoleName name={r.name} />} />
          ))}
        </div>
      ) : (
        <Field id={`roles-${member.id}`} label={t("staff.rolesTyped")} value={typed} onChange={(e) => setTyped(e.target.value)} />
      )}
      <p className="muted">{t("staff.rolesHint")}</p>
      <div className="row-actions">
        <Button type="submit" variant="primary" className="save-roles" disabled={busy}>{t("staff.saveRoles")}</Button>
        <Button variant="plain" onClick={onCancel}>{t("common.cancel")}</Button>
      </div>
    </form>
  );
}

function InviteForm({ roles, onInvite }: { roles: Array<{ name: string; description: string }> | null; onInvite(input: { email: string; name: string; roles: string[] }): Promise<boolean> }) {
  const { t } = useI18n();
  const roleWords = useRoleWords();
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [chosen, setChosen] = useState<string[]>([]);
  const [typed, setTyped] = useState("");
  async function submit(e: FormEvent) {
    e.preventDefault();
    const list = roles ? chosen : typed.split(",").map((r) => r.trim()).filter(Boolean);
    if (!(await onInvite({ email: email.trim(), name: name.trim(), roles: list }))) return;
    setEmail("");
    setName("");
    setChosen([]);
    setTyped("");
  }
  return (
    <Card title={t("staff.invite")}>
      <form className="stack" id="invite-form" onSubmit={(e) => void submit(e)}>
        <div className="inline-form">
          <Field id="invite-email" type="email" label={t("auth.email")} value={email} onChange={(e) => setEmail(e.target.value)} required />
          <Field id="invite-name" label={t("staff.name")} value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        {roles ? (
          <fieldset className="checks">
            <legend>{t("staff.roles")}</legend>
            {roles.filter((r) => !buyerRoles.includes(r.name)).map((r) => (
              <Check key={r.name} id={`invite-role-${r.name}`} value={r.name} checked={chosen.includes(r.name)}
                onChange={(e) => setChosen(e.target.checked ? [...chosen, r.name] : chosen.filter((x) => x !== r.name))}
                label={<><strong><RoleName name={r.name} /></strong> <span className="muted">{roleWords.description(r)}</span></>} />
            ))}
          </fieldset>
        ) : (
          <Field id="invite-roles" label={t("staff.rolesTyped")} value={typed} onChange={(e) => setTyped(e.target.value)} required />
        )}
        <p className="muted">{t("staff.inviteHint")}</p>
        <div><Button type="submit" variant="primary" id="send-invite">{t("staff.sendInvite")}</Button></div>
      </form>
    </Card>
  );
}
