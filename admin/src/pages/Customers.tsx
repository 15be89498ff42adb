// Customers: the list with search and a group filter, a buyer's detail
// (profile, addresses, orders, groups, tags, note) and customer groups.
import { useState, type FormEvent } from "react";
import { Link, useLocation, useSearch } from "wouter";
import { check, gql } from "../api/client";
import type { Customer, CustomerAddress, CustomerGroup, Order, UserError } from "../api/schema";
import { formatDate, formatMoney, useI18n } from "../i18n";
import { useSession } from "../session";
import { addressLines, Badge, Button, Card, EmptyState, ErrorBanner, Field, Select, Spinner, Table } from "../ui";
import { Gate, Notice, Pager, TextArea, useCursor, useQuery } from "./Gate";

type Row = Pick<Customer, "id" | "email" | "firstName" | "lastName" | "companyName" | "kind" | "emailVerified" | "createdAt" | "erasedAt">;
type Group = Pick<CustomerGroup, "id" | "name" | "description" | "customerCount" | "createdAt">;
type PageInfo = { hasNextPage: boolean; endCursor: string | null };

const CUSTOMERS = `query Customers($first: Int, $after: String, $query: String, $groupId: ID) {
  customers(first: $first, after: $after, query: $query, groupId: $groupId) {
    nodes { id email firstName lastName companyName kind emailVerified createdAt erasedAt }
    pageInfo { hasNextPage endCursor }
  }
  customerGroups(first: 100) { nodes { id name description customerCount createdAt } }
}`;

function fullName(c: Pick<Customer, "firstName" | "lastName">): string {
  return [c.firstName, c.lastName].filter(Boolean).join(" ");
}

export function Customers() {
  return (
    <Gate permission="customer:read">
      <CustomerList />
    </Gate>
  );
}

function CustomerList() {
  const { t, lang } = useI18n();
  const [, navigate] = useLocation();
  const [search, setSearch] = useState("");
  const [query, setQuery] = useState("");
  const [groupId, setGroupId] = useState(new URLSearchParams(useSearch()).get("group") ?? "");
  const cursor = useCursor();
  const { data, error, reload } = useQuery<{ customers: { nodes: Row[]; pageInfo: PageInfo }; customerGroups: { nodes: Group[] } }>(CUSTOMERS, {
    first: 25, after: cursor.after, query: query || null, groupId: groupId || null,
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    cursor.reset();
    setQuery(search.trim());
  }
  const filtered = query !== "" || groupId !== "";
  return (
    <div className="page">
      <div className="page-header">
        <h1>{t("nav.customers")}</h1>
        <Link href="/customers/groups" className="btn btn-secondary" id="customer-groups">{t("customers.groups")}</Link>
      </div>
      <Card>
        <form className="filters" onSubmit={submit}>
          <Field id="customer-search" label={t("common.search")} type="search" placeholder={t("customers.searchPlaceholder")} value={search} onChange={(e) => setSearch(e.target.value)} />
          <Select id="filter-group" label={t("customers.group")} value={groupId} onChange={(e) => { cursor.reset(); setGroupId(e.target.value); }}
            options={[["", t("common.all")], ...(data?.customerGroups.nodes ?? []).map((g): [string, string] => [g.id, g.name])]} />
          <Button type="submit">{t("common.search")}</Button>
        </form>
        <ErrorBanner error={error} onRetry={() => void reload()} retryLabel={t("common.retry")} />
        {!data && !error && <Spinner label={t("common.loading")} />}
        {data && data.customers.nodes.length === 0 && (
          filtered ? <EmptyState title={t("customers.noMatch")}>{t("customers.noMatchHint")}</EmptyState>
            : <EmptyState title={t("customers.empty")}>{t("customers.emptyHint")}</EmptyState>
        )}
        {data && data.customers.nodes.length > 0 && (
          <Table<Row>
            rows={data.customers.nodes}
            rowKey={(c) => c.id}
            onRowClick={(c) => navigate("/customers/" + c.id)}
            columns={[
              { header: t("customers.name"), cell: (c) => <><a className="order-link customer-link" href={"/admin/customers/" + c.id} onClick={(e) => { e.preventDefault(); navigate("/customers/" + c.id); }}>{c.erasedAt ? t("customer.erased") : fullName(c) || c.email}</a>{c.companyName && <div className="muted">{c.companyName}</div>}</> },
              { header: t("auth.email"), cell: (c) => <>{c.email} {!c.emailVerified && !c.erasedAt && <Badge value="PENDING" label={t("customer.unverified")} />}</> },
              { header: t("customers.kind"), cell: (c) => t(`customerKind.${c.kind}`) },
              { header: t("customers.since"), cell: (c) => formatDate(c.createdAt, lang) },
            ]}
          />
        )}
        <Pager hasPrev={cursor.hasPrev} hasNext={!!data?.customers.pageInfo.hasNextPage} onPrev={cursor.prev} onNext={() => cursor.next(data?.customers.pageInfo.endCursor)} />
      </Card>
    </div>
  );
}

type Detail = Pick<Customer, "id" | "email" | "emailVerified" | "firstName" | "lastName" | "phone" | "kind" | "companyName" | "taxId" | "acceptsMarketing" | "erasedAt" | "createdAt" | "note" | "tags"> & {
  addresses: CustomerAddress[];
  defaultShippingAddress: Pick<CustomerAddress, "id"> | null;
  defaultBillingAddress: Pick<CustomerAddress, "id"> | null;
  groups: Array<Pick<CustomerGroup, "id" | "name">> | null;
};
type OrderRow = Pick<Order, "id" | "number" | "status" | "paymentStatus" | "fulfillmentStatus" | "total" | "createdAt">;

function detailQuery(orders: boolean): string {
  return `query Customer($id: ID!) {
    customer(id: $id) { id email emailVerified firstName lastName phone kind companyName taxId acceptsMarketing erasedAt createdAt note tags
      addresses { id firstName lastName company line1 line2 city province postalCode countryCode phone }
      defaultShippingAddress { id } defaultBillingAddress { id } groups { id name } }
    customerGroups(first: 100) { nodes { id name } }
    ${orders ? `orders(first: 20, filter: { customerId: $id }) { nodes { id number status paymentStatus fulfillmentStatus total { amount currencyCode } createdAt } pageInfo { hasNextPage } }` : ""}
  }`;
}

const NOTE = `mutation($input: CustomerUpdateInput!) { customerUpdate(input: $input) { customer { id } userErrors { code field message } } }`;
const TAGS_ADD = `mutation($input: CustomerTagsInput!) { customerTagsAdd(input: $input) { customer { id } userErrors { code field message } } }`;
const TAGS_REMOVE = `mutation($input: CustomerTagsInput!) { customerTagsRemove(input: $input) { customer { id } userErrors { code field message } } }`;
const GROUP_ADD = `mutation($input: CustomerGroupMembersInput!) { customerGroupAddCustomers(input: $input) { group { id } userErrors { code field message } } }`;
const GROUP_REMOVE = `mutation($input: CustomerGroupMembersInput!) { customerGroupRemoveCustomers(input: $input) { group { id } userErrors { code field message } } }`;

async function mutate(doc: string, input: Record<string, unknown>): Promise<void> {
  const d = await gql<Record<string, { userErrors: UserError[] }>>(doc, { input });
  check(Object.values(d)[0]);
}

export function CustomerDetail({ id }: { id: string }) {
  return (
    <Gate permission="customer:read">
      <DetailView id={id} />
    </Gate>
  );
}

function DetailView({ id }: { id: string }) {
  const { t, lang } = useI18n();
  const { can } = useSession();
  const [, navigate] = useLocation();
  const { data, error, reload } = useQuery<{ customer: Detail | null; customerGroups: { nodes: Group[] }; orders?: { nodes: OrderRow[]; pageInfo: { hasNextPage: boolean } } }>(detailQuery(can("order:read")), { id });
  const [actionError, setActionError] = useState<unknown>(null);
  const [notice, setNotice] = useState("");
  const [note, setNote] = useState<string | null>(null);
  const [tag, setTag] = useState("");
  const [group, setGroup] = useState("");
  const write = can("customer:write");

  async function act(run: () => Promise<void>, done: string) {
    setActionError(null);
    setNotice("");
    try {
      await run();
      setNotice(done);
      await reload();
    } catch (e) {
      setActionError(e);
    }
  }

  if (error && !data) return <div className="page"><ErrorBanner error={error} onRetry={() => void reload()} retryLabel={t("common.retry")} /></div>;
  if (!data) return <div className="page"><Spinner label={t("common.loading")} /></div>;
  const c = data.customer;
  if (!c) return <div className="page"><EmptyState title={t("customer.notFound")}><Link href="/customers">{t("customer.backToList")}</Link></EmptyState></div>;
  const memberOf = new Set((c.groups ?? []).map((g) => g.id));
  const joinable = data.customerGroups.nodes.filter((g) => !memberOf.has(g.id));

  return (
    <div className="page">
      <div className="page-header">
        <div>
          <Link href="/customers" className="back">← {t("nav.customers")}</Link>
          <h1 id="customer-name">{c.erasedAt ? t("customer.erased") : fullName(c) || c.email}</h1>
          <div className="badges">
            <span className="muted">{c.email}</span>
            {c.emailVerified ? <Badge value="SUCCEEDED" label={t("customer.verified")} /> : <Badge value="PENDING" label={t("customer.unverified")} />}
            <span className="muted">{t("customers.since")} {formatDate(c.createdAt, lang)}</span>
          </div>
        </div>
      </div>
      <Notice>{notice}</Notice>
      <ErrorBanner error={actionError} />
      <div className="columns">
        <div className="main-col">
          {data.orders && (
            <Card title={t("customer.orders")}>
              {data.orders.nodes.length === 0 ? (
                <EmptyState title={t("customer.noOrders")}>{t("customer.noOrdersHint")}</EmptyState>
              ) : (
                <Table<OrderRow> rows={data.orders.nodes} rowKey={(o) => o.id} onRowClick={(o) => navigate("/orders/" + o.id)} columns={[
                  { header: t("orders.number"), cell: (o) => <a className="order-link" href={"/admin/orders/" + o.id} onClick={(e) => { e.preventDefault(); navigate("/orders/" + o.id); }}>{o.number}</a> },
                  { header: t("orders.date"), cell: (o) => formatDate(o.createdAt, lang) },
                  { header: t("orders.paymentStatus"), cell: (o) => <Badge value={o.paymentStatus} label={t(`paymentStatus.${o.paymentStatus}`)} /> },
                  { header: t("orders.fulfillment"), cell: (o) => <Badge value={o.fulfillmentStatus} label={t(`fulfillmentStatus.${o.fulfillmentStatus}`)} /> },
                  { header: t("orders.total"), cell: (o) => formatMoney(o.total, lang), align: "end" },
                ]} />
              )}
              {data.orders.pageInfo.hasNextPage && <p><Link href={"/orders?customerId=" + c.id}>{t("customer.allOrders")}</Link></p>}
            </Card>
          )}
          <Card title={t("customer.addresses")}>
            {c.addresses.length === 0 ? <EmptyState title={t("customer.noAddresses")}>{t("customer.noAddressesHint")}</EmptyState> : (
              <div className="address-grid">
                {c.addresses.map((a) => (
                  <address key={a.id} className="address-card">
                    {addressLines(a, lang).map((l, i) => <div key={i}>{l}</div>)}
                    <div className="badges">
                      {c.defaultShippingAddress?.id === a.id && <Badge value="OPEN" label={t("customer.defaultShipping")} />}
                      {c.defaultBillingAddress?.id === a.id && <Badge value="OPEN" label={t("customer.defaultBilling")} />}
                    </div>
                  </address>
                ))}
              </div>
            )}
          </Card>
        </div>
        <div className="side-col">
          <Card title={t("customer.profile")}>
            <dl className="facts">
              <dt>{t("customers.kind")}</dt><dd>{t(`customerKind.${c.kind}`)}</dd>
              {c.companyName && <><dt>{t("customer.company")}</dt><dd>{c.companyName}</dd></>}
              {c.taxId && <><dt>{t("customer.taxId")}</dt><dd>{c.taxId}</dd></>}
              <dt>{t("customer.phone")}</dt><dd>{c.phone || t("common.none")}</dd>
              <dt>{t("customer.marketing")}</dt><dd>{c.acceptsMarketing ? t("customer.yes") : t("customer.no")}</dd>
            </dl>
          </Card>
          <Card title={t("customers.groups")}>
            {(c.groups ?? []).length === 0 && <p className="muted">{t("customer.noGroups")}</p>}
            <ul className="chips">
              {(c.groups ?? []).map((g) => (
                <li key={g.id} className="chip">{g.name}
                  {write && <button type="button" className="chip-x" aria-label={t("customer.removeFrom", { group: g.name })}
                    onClick={() => void act(() => mutate(GROUP_REMOVE, { groupId: g.id, customerIds: [c.id] }), t("customer.groupsSaved"))}>×</button>}
                </li>
              ))}
            </ul>
            {write && joinable.length > 0 && (
              <form className="inline-form" onSubmit={(e) => { e.preventDefault(); if (group) void act(() => mutate(GROUP_ADD, { groupId: group, customerIds: [c.id] }), t("customer.groupsSaved")); }}>
                <Select id="add-to-group" label={t("customer.addToGroup")} value={group} onChange={(e) => setGroup(e.target.value)}
                  options={[["", "—"], ...joinable.map((g): [string, string] => [g.id, g.name])]} />
                <Button type="submit" disabled={!group}>{t("customer.add")}</Button>
              </form>
            )}
            {write && data.customerGroups.nodes.length === 0 && <p className="muted">{t("customer.noGroupsYet")} <Link href="/customers/groups">{t("customers.groups")}</Link></p>}
          </Card>
          <Card title={t("customer.tags")}>
            <ul className="chips">
              {(c.tags ?? []).map((x) => (
                <li key={x} className="chip">{x}
                  {write && <button type="button" className="chip-x" aria-label={t("customer.removeTag", { tag: x })}
                    onClick={() => void act(() => mutate(TAGS_REMOVE, { customerId: c.id, tags: [x] }), t("customer.tagsSaved"))}>×</button>}
                </li>
              ))}
            </ul>
            {(c.tags ?? []).length === 0 && <p className="muted">{t("customer.noTags")}</p>}
            {write && (
              <form className="inline-form" onSubmit={(e) => { e.preventDefault(); if (tag.trim()) void act(async () => { await mutate(TAGS_ADD, { customerId: c.id, tags: [tag.trim()] }); setTag(""); }, t("customer.tagsSaved")); }}>
                <Field id="add-tag" label={t("customer.addTag")} value={tag} onChange={(e) => setTag(e.target.value)} />
                <Button type="submit">{t("customer.add")}</Button>
              </form>
            )}
          </Card>
          <Card title={t("customer.note")}>
            {write ? (
              <form className="stack" onSubmit={(e) => { e.preventDefault(); void act(() => mutate(NOTE, { customerId: c.id, note: note ?? c.note ?? "" }), t("customer.noteSaved")); }}>
                <TextArea id="customer-note" label={t("customer.noteLabel")} value={note ?? c.note ?? ""} onChange={(e) => setNote(e.target.value)} />
                <div><Button type="submit">{t("customer.saveNote")}</Button></div>
              </form>
            ) : (
              <p>{c.note || <span className="muted">{t("common.none")}</span>}</p>
            )}
          </Card>
        </div>
      </div>
    </div>
  );
}

const GROUPS = `query Groups($first: Int, $after: String) { customerGroups(first: $first, after: $after) { nodes { id name description customerCount createdAt } pageInfo { hasNextPage endCursor } } }`;
const GROUP_CREATE = `mutation($input: CustomerGroupCreateInput!) { customerGroupCreate(input: $input) { group { id } userErrors { code field message } } }`;
const GROUP_DELETE = `mutation($input: CustomerGroupDeleteInput!) { customerGroupDelete(input: $input) { deletedGroupId userErrors { code field message } } }`;

export function CustomerGroups() {
  return (
    <Gate permission="customer:read">
      <GroupList />
    </Gate>
  );
}

function GroupList() {
  const { t, lang } = useI18n();
  const { can } = useSession();
  const [, navigate] = useLocation();
  const cursor = useCursor();
  const { data, error, reload } = useQuery<{ customerGroups: { nodes: Group[]; pageInfo: PageInfo } }>(GROUPS, { first: 50, after: cursor.after });
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [actionError, setActionError] = useState<unknown>(null);
  const [notice, setNotice] = useState("");
  async function act(run: () => Promise<void>, done: string) {
    setActionError(null);
    setNotice("");
    try {
      await run();
      setNotice(done);
      await reload();
    } catch (e) {
      setActionError(e);
    }
  }
  return (
    <div className="page">
      <div className="page-header">
        <div>
          <Link href="/customers" className="back">← {t("nav.customers")}</Link>
          <h1>{t("customers.groups")}</h1>
        </div>
      </div>
      <Notice>{notice}</Notice>
      <ErrorBanner error={actionError} />
      {can("customer:write") && (
        <Card title={t("groups.create")}>
          <form className="inline-form" id="group-create" onSubmit={(e) => { e.preventDefault(); void act(async () => { await mutate(GROUP_CREATE, { name, description }); setName(""); setDescription(""); }, t("groups.created")); }}>
            <Field id="group-name" label={t("groups.name")} value={name} onChange={(e) => setName(e.target.value)} required />
            <Field id="group-description" label={t("groups.description")} value={description} onChange={(e) => setDescription(e.target.value)} />
            <Button type="submit" variant="primary">{t("groups.create")}</Button>
          </form>
        </Card>
      )}
      <Card>
        <ErrorBanner error={error} onRetry={() => void reload()} retryLabel={t("common.retry")} />
        {!data && !error && <Spinner label={t("common.loading")} />}
        {data && data.customerGroups.nodes.length === 0 && <EmptyState title={t("groups.empty")}>{can("customer:write") ? t("groups.emptyHint") : t("groups.emptyHintRead")}</EmptyState>}
        {data && data.customerGroups.nodes.length > 0 && (
          <Table<Group> rows={data.customerGroups.nodes} rowKey={(g) => g.id} columns={[
            { header: t("groups.name"), cell: (g) => <a href={"/admin/customers?group=" + g.id} className="order-link" onClick={(e) => { e.preventDefault(); navigate("/customers?group=" + g.id); }}>{g.name}</a> },
            { header: t("groups.description"), cell: (g) => g.description },
            { header: t("groups.members"), cell: (g) => String(g.customerCount), align: "end" },
            { header: t("customers.since"), cell: (g) => formatDate(g.createdAt, lang) },
            { header: "", cell: (g) => can("customer:write") ? <Button variant="plain" onClick={() => void act(() => mutate(GROUP_DELETE, { id: g.id }), t("groups.deleted"))}>{t("groups.delete")}</Button> : null },
          ]} />
        )}
        <Pager hasPrev={cursor.hasPrev} hasNext={!!data?.customerGroups.pageInfo.hasNextPage} onPrev={cursor.prev} onNext={() => cursor.next(data?.customerGroups.pageInfo.endCursor)} />
      </Card>
    </div>
  );
}
