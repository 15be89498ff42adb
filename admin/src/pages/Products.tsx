// Products: the list with search, the editor (details, options, variants,
// prices per currency, stock adjustments with a reason) and the form that
// creates a product. Everything goes through the catalog's GraphQL API.
import { useState, type FormEvent } from "react";
import { Link, useLocation } from "wouter";
import { check, gql } from "../api/client";
import type { InventoryAdjustment, InventoryAdjustmentReason, InventoryLevel, Money, Product, ProductStatus, ProductVariant, UserError } from "../api/schema";
import { formatDate, formatMoney, useI18n } from "../i18n";
import { useSession } from "../session";
import { Badge, Button, Card, EmptyState, ErrorBanner, Field, Select, Spinner, Table } from "../ui";
import { Gate, Notice, Pager, TextArea, useCursor, useQuery } from "./Gate";

type ListRow = Pick<Product, "id" | "title" | "handle" | "status" | "updatedAt" | "priceRange"> & { variants: Array<Pick<ProductVariant, "id" | "availableQuantity">> };

const PRODUCTS = `query Products($first: Int, $after: String, $query: String, $status: ProductStatus) {
  products(first: $first, after: $after, query: $query, status: $status) {
    nodes { id title handle status updatedAt priceRange { min { amount currencyCode } max { amount currencyCode } } variants { id availableQuantity } }
    pageInfo { hasNextPage endCursor }
  }
}`;

const statuses: ProductStatus[] = ["DRAFT", "ACTIVE", "ARCHIVED"];
const reasons: InventoryAdjustmentReason[] = ["RECEIVED", "CORRECTION", "DAMAGED", "LOST", "RETURNED", "OTHER"];

export function Products() {
  return (
    <Gate permission="product:read">
      <ProductList />
    </Gate>
  );
}

function ProductList() {
  const { t, lang } = useI18n();
  const { can } = useSession();
  const [, navigate] = useLocation();
  const [search, setSearch] = useState("");
  const [query, setQuery] = useState("");
  const [status, setStatus] = useState("");
  const cursor = useCursor();
  const { data, error, reload } = useQuery<{ products: { nodes: ListRow[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } }>(PRODUCTS, {
    first: 25,
    after: cursor.after,
    query: query || null,
    status: status || null,
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    cursor.reset();
    setQuery(search.trim());
  }
  const filtered = query !== "" || status !== "";
  const range = (p: ListRow) => {
    if (!p.priceRange) return "";
    const min = formatMoney(p.priceRange.min, lang);
    const max = formatMoney(p.priceRange.max, lang);
    return min === max ? min : `${min} – ${max}`;
  };
  return (
    <div className="page">
      <div className="page-header">
        <h1>{t("nav.products")}</h1>
        {can("product:write") && (
          <Link href="/products/new" className="btn btn-primary" id="new-product">
            {t("products.new")}
          </Link>
        )}
      </div>
      <Card>
        <form className="filters" onSubmit={submit}>
          <Field id="product-search" label={t("common.search")} type="search" placeholder={t("products.searchPlaceholder")} value={search} onChange={(e) => setSearch(e.target.value)} />
          <Select id="filter-product-status" label={t("products.status")} value={status}
            onChange={(e) => { cursor.reset(); setStatus(e.target.value); }}
            options={[["", t("common.all")], ...statuses.map((s): [string, string] => [s, t(`productStatus.${s}`)])]} />
          <Button type="submit">{t("common.search")}</Button>
        </form>
        <ErrorBanner error={error} onRetry={() => void reload()} retryLabel={t("common.retry")} />
        {!data && !error && <Spinner label={t("common.loading")} />}
        {data && data.products.nodes.length === 0 && (
          filtered ? (
            <EmptyState title={t("products.noMatch")}>{t("products.noMatchHint")}</EmptyState>
          ) : (
            <EmptyState title={t("products.empty")}>{can("product:write") ? t("products.emptyHint") : t("products.emptyHintRead")}</EmptyState>
          )
        )}
        {data && data.products.nodes.length > 0 && (
          <Table<ListRow>
            rows={data.products.nodes}
            rowKey={(p) => p.id}
            onRowClick={(p) => navigate("/products/" + p.id)}
            columns={[
              { header: t("products.title"), cell: (p) => <><a className="product-link order-link" href={"/admin/products/" + p.id} onClick={(e) => { e.preventDefault(); navigate("/products/" + p.id); }}>{p.title}</a><div className="muted">{p.handle}</div></> },
              { header: t("products.status"), cell: (p) => <Badge value={p.status} label={t(`productStatus.${p.status}`)} /> },
              { header: t("products.variants"), cell: (p) => String(p.variants.length), align: "end" },
              { header: t("products.available"), cell: (p) => String(p.variants.reduce((n, v) => n + v.availableQuantity, 0)), align: "end" },
              { header: t("products.price"), cell: range, align: "end" },
              { header: t("products.updated"), cell: (p) => formatDate(p.updatedAt, lang) },
            ]}
          />
        )}
        <Pager hasPrev={cursor.hasPrev} hasNext={!!data?.products.pageInfo.hasNextPage} onPrev={cursor.prev} onNext={() => cursor.next(data?.products.pageInfo.endCursor)} />
      </Card>
    </div>
  );
}

type EditorVariant = Pick<ProductVariant, "id" | "sku" | "title" | "archived" | "selectedOptions"> & {
  prices: Money[];
  inventory?: InventoryLevel | null;
  inventoryAdjustments?: { nodes: InventoryAdjustment[] } | null;
};
type EditorProduct = Pick<Product, "id" | "title" | "handle" | "description" | "status" | "options" | "updatedAt"> & { allVariants: EditorVariant[] };

function productQuery(inventory: boolean): string {
  return `query Product($id: ID!) {
    shopSettings { currencies defaultCurrency }
    product(id: $id) { id title handle description status updatedAt options { name values }
      allVariants { id sku title archived selectedOptions { name value } prices { amount currencyCode }
        ${inventory ? "inventory { onHand reserved available } inventoryAdjustments(first: 5) { nodes { id delta reason note actor onHandAfter createdAt } }" : ""} } }
  }`;
}

const PRODUCT_UPDATE = `mutation($input: ProductUpdateInput!) { productUpdate(input: $input) { product { id } userErrors { code field message } } }`;
const ARCHIVE = `mutation($input: ProductArchiveInput!) { productArchive(input: $input) { product { id } userErrors { code field message } } }`;
const UNARCHIVE = `mutation($input: ProductUnarchiveInput!) { productUnarchive(input: $input) { product { id } userErrors { code field message } } }`;
const VARIANT_UPDATE = `mutation($input: ProductVariantUpdateInput!) { productVariantUpdate(input: $input) { productVariant { id } userErrors { code field message } } }`;
const PRICES_SET = `mutation($input: ProductVariantPricesSetInput!) { productVariantPricesSet(input: $input) { productVariant { id } userErrors { code field message } } }`;
const VARIANT_CREATE = `mutation($input: ProductVariantCreateInput!) { productVariantCreate(input: $input) { productVariant { id } userErrors { code field message } } }`;
const VARIANT_ARCHIVE = `mutation($input: ProductVariantArchiveInput!) { productVariantArchive(input: $input) { productVariant { id } userErrors { code field message } } }`;
const ADJUST = `mutation($input: InventoryAdjustInput!) { inventoryAdjust(input: $input) { inventory { onHand available } userErrors { code field message } } }`;

type Payload = { userErrors: UserError[] };

/** Runs a mutation and throws its userErrors. */
async function mutate(doc: string, input: Record<string, unknown>): Promise<void> {
  const d = await gql<Record<string, Payload>>(doc, { input });
  check(Object.values(d)[0]);
}

export function ProductEditor({ id }: { id: string }) {
  return (
    <Gate permission="product:read">
      <Editor id={id} />
    </Gate>
  );
}

function Editor({ id }: { id: string }) {
  const { t } = useI18n();
  const { can } = useSession();
  const { data, error, reload } = useQuery<{ shopSettings: { currencies: string[]; defaultCurrency: string }; product: EditorProduct | null }>(productQuery(can("inventory:read")), { id });
  const [actionError, setActionError] = useState<unknown>(null);
  const [notice, setNotice] = useState("");
  const [busy, setBusy] = useState(false);

  async function act(run: () => Promise<void>, done: string) {
    setActionError(null);
    setNotice("");
    setBusy(true);
    try {
      await run();
      // The notice once the editor shows what was saved: the reload
      // remounts the forms, and what staff typed before it would be lost.
      await reload();
      setNotice(done);
    } catch (e) {
      setActionError(e);
    } finally {
      setBusy(false);
    }
  }
  if (error && !data) return <div className="page"><ErrorBanner error={error} onRetry={() => void reload()} retryLabel={t("common.retry")} /></div>;
  if (!data) return <div className="page"><Spinner label={t("common.loading")} /></div>;
  if (!data.product) return <div className="page"><EmptyState title={t("product.notFound")}><Link href="/products">{t("product.backToList")}</Link></EmptyState></div>;
  // Keyed by what the server holds: a saved product remounts the forms
  // with it, while the notice and error live here and survive.
  return <EditorBody key={data.product.updatedAt + JSON.stringify(data.product.allVariants)} product={data.product} currencies={data.shopSettings.currencies}
    act={act} notice={notice} error={actionError} busy={busy} />;
}

type Act = (run: () => Promise<void>, done: string) => Promise<void>;

function EditorBody({ product, currencies, act, notice, error, busy }: { product: EditorProduct; currencies: string[]; act: Act; notice: string; error: unknown; busy: boolean }) {
  const { t, lang } = useI18n();
  const { can } = useSession();
  const write = can("product:write");
  const [title, setTitle] = useState(product.title);
  const [handle, setHandle] = useState(product.handle);
  const [description, setDescription] = useState(product.description);
  const [status, setStatus] = useState<ProductStatus>(product.status);
  const [options, setOptions] = useState(product.options.map((o) => ({ name: o.name, values: o.values.join(", ") })));

  function saveDetails(e: FormEvent) {
    e.preventDefault();
    const input: Record<string, unknown> = { id: product.id, title, handle, description };
    if (status !== product.status && status !== "ARCHIVED" && product.status !== "ARCHIVED") input.status = status;
    const opts = options.map((o) => ({ name: o.name.trim(), values: splitValues(o.values) }));
    if (JSON.stringify(opts) !== JSON.stringify(product.options.map((o) => ({ name: o.name, values: o.values })))) input.options = opts;
    void act(() => mutate(PRODUCT_UPDATE, input), t("product.saved"));
  }

  const live = product.allVariants.filter((v) => !v.archived);
  const archived = product.allVariants.filter((v) => v.archived);
  return (
    <div className="page">
      <div className="page-header">
        <div>
          <Link href="/products" className="back">← {t("nav.products")}</Link>
          <h1 id="product-title">{product.title}</h1>
          <div className="badges"><Badge value={product.status} label={t(`productStatus.${product.status}`)} /></div>
        </div>
        {write && (
          <div className="actions">
            {product.status === "ARCHIVED" ? (
              <Button id="unarchive-product" disabled={busy} onClick={() => void act(() => mutate(UNARCHIVE, { id: product.id }), t("product.unarchived"))}>{t("product.unarchive")}</Button>
            ) : (
              <Button id="archive-product" variant="critical" disabled={busy} onClick={() => void act(() => mutate(ARCHIVE, { id: product.id }), t("product.archived"))}>{t("product.archive")}</Button>
            )}
          </div>
        )}
      </div>
      <Notice>{notice}</Notice>
      <ErrorBanner error={error} />
      <div className="columns">
        <div className="main-col">
          <Card title={t("product.details")}>
            <form className="stack" id="product-form" onSubmit={saveDetails}>
              <Field id="product-title-input" label={t("products.title")} value={title} disabled={!write} onChange={(e) => setTitle(e.target.value)} required />
              <TextArea id="product-description" label={t("product.description")} value={description} disabled={!write} onChange={(e) => setDescription(e.target.value)} />
              <Field id="product-handle" label={t("product.handle")} value={handle} disabled={!write} onChange={(e) => setHandle(e.target.value)} />
              <Select id="product-status" label={t("products.status")} value={status} disabled={!write || product.status === "ARCHIVED"}
                onChange={(e) => setStatus(e.target.value as ProductStatus)}
                options={(product.status === "ARCHIVED" ? statuses : statuses.filter((s) => s !== "ARCHIVED")).map((s): [string, string] => [s, t(`productStatus.${s}`)])} />
              <h3>{t("product.options")}</h3>
              {options.length === 0 && <p className="muted">{t("product.noOptions")}</p>}
              {options.map((o, i) => (
                <div className="inline-form" key={i}>
                  <Field id={`option-name-${i}`} label={t("product.optionName")} value={o.name} disabled={!write}
                    onChange={(e) => setOptions(options.map((x, j) => (j === i ? { ...x, name: e.target.value } : x)))} />
                  <Field id={`option-values-${i}`} label={t("product.optionValues")} value={o.values} disabled={!write}
                    onChange={(e) => setOptions(options.map((x, j) => (j === i ? { ...x, values: e.target.value } : x)))} />
                </div>
              ))}
              {options.length > 0 && <p className="muted">{t("product.optionsHint")}</p>}
              {write && <div><Button type="submit" variant="primary" id="save-product" disabled={busy}>{t("product.save")}</Button></div>}
            </form>
          </Card>
          <Card title={t("product.variants")}>
            {live.length === 0 && <EmptyState title={t("product.noVariants")}>{write ? t("product.noVariantsHint") : ""}</EmptyState>}
            {live.map((v) => (
              <VariantEditor key={v.id} variant={v} currencies={currencies} busy={busy} onAct={act} />
            ))}
            {write && <VariantCreate product={product} currencies={currencies} busy={busy} onAct={act} />}
          </Card>
          {archived.length > 0 && (
            <Card title={t("product.archivedVariants")}>
              <Table rows={archived} rowKey={(v) => v.id} columns={[
                { header: t("product.variant"), cell: (v) => v.title },
                { header: t("order.sku"), cell: (v) => <code>{v.sku}</code> },
                { header: t("products.price"), cell: (v) => v.prices.map((p) => formatMoney(p, lang)).join(" · ") },
              ]} />
            </Card>
          )}
        </div>
        <div className="side-col">
          <Card title={t("product.summary")}>
            <p>{t("product.handle")}: <code>{product.handle}</code></p>
            <p className="muted">{t("products.updated")}: {formatDate(product.updatedAt, lang)}</p>
            <p>{t("product.currencies")}: {currencies.join(", ")}</p>
          </Card>
        </div>
      </div>
    </div>
  );
}

function splitValues(s: string): string[] {
  return s.split(",").map((x) => x.trim()).filter((x) => x !== "");
}

function VariantEditor({ variant, currencies, busy, onAct }: { variant: EditorVariant; currencies: string[]; busy: boolean; onAct: Act }) {
  const { t, lang } = useI18n();
  const { can } = useSession();
  const write = can("product:write");
  const held = (c: string) => variant.prices.find((p) => p.currencyCode === c)?.amount ?? "";
  const [sku, setSku] = useState(variant.sku);
  const [prices, setPrices] = useState<Record<string, string>>(Object.fromEntries(currencies.map((c) => [c, held(c)])));
  const [delta, setDelta] = useState("");
  const [reason, setReason] = useState<InventoryAdjustmentReason>("RECEIVED");
  const [note, setNote] = useState("");
  const slug = variant.id;

  function save(e: FormEvent) {
    e.preventDefault();
    void onAct(async () => {
      if (sku !== variant.sku) await mutate(VARIANT_UPDATE, { id: variant.id, sku });
      const set = currencies.filter((c) => prices[c].trim() !== "" && prices[c].trim() !== held(c)).map((c) => ({ currencyCode: c, amount: prices[c].trim() }));
      const remove = currencies.filter((c) => prices[c].trim() === "" && held(c) !== "");
      if (set.length > 0 || remove.length > 0) await mutate(PRICES_SET, { variantId: variant.id, prices: set, removeCurrencies: remove });
    }, t("product.variantSaved", { variant: variant.title }));
  }
  function adjust(e: FormEvent) {
    e.preventDefault();
    const n = Number(delta);
    void onAct(() => mutate(ADJUST, { variantId: variant.id, delta: Number.isInteger(n) ? n : NaN, reason, note }), t("product.stockAdjusted", { variant: variant.title }));
  }
  return (
    <div className="variant" data-variant={variant.id}>
      <div className="variant-head">
        <strong>{variant.title}</strong>
        <span className="muted">{variant.selectedOptions.map((o) => `${o.name}: ${o.value}`).join(" · ")}</span>
        {write && (
          <Button variant="plain" className="archive-variant" disabled={busy} onClick={() => void onAct(() => mutate(VARIANT_ARCHIVE, { id: variant.id }), t("product.variantArchived", { variant: variant.title }))}>
            {t("product.archiveVariant")}
          </Button>
        )}
      </div>
      <form className="inline-form variant-form" onSubmit={save}>
        <Field id={`sku-${slug}`} label={t("order.sku")} value={sku} disabled={!write} onChange={(e) => setSku(e.target.value)} />
        {currencies.map((c) => (
          <Field key={c} id={`price-${slug}-${c}`} className="price-input" label={t("product.priceIn", { currency: c })} inputMode="decimal" value={prices[c]} disabled={!write}
            placeholder={t("product.noPrice")} onChange={(e) => setPrices({ ...prices, [c]: e.target.value })} />
        ))}
        {write && <Button type="submit" className="save-variant" disabled={busy}>{t("product.saveVariant")}</Button>}
      </form>
      {variant.inventory && (
        <div className="stock">
          <span className="stock-figures">
            {t("product.onHand")} <strong className="on-hand">{variant.inventory.onHand}</strong> · {t("product.reserved")} <strong>{variant.inventory.reserved}</strong> · {t("product.available")} <strong className="available">{variant.inventory.available}</strong>
          </span>
          {can("inventory:write") && (
            <form className="inline-form stock-form" onSubmit={adjust}>
              <Field id={`delta-${slug}`} label={t("product.adjustBy")} inputMode="numeric" placeholder="+10 / -2" value={delta} onChange={(e) => setDelta(e.target.value)} required />
              <Select id={`reason-${slug}`} label={t("product.reason")} value={reason} onChange={(e) => setReason(e.target.value as InventoryAdjustmentReason)}
                options={reasons.map((r): [string, string] => [r, t(`reason.${r}`)])} />
              <Field id={`note-${slug}`} label={t("product.note")} value={note} onChange={(e) => setNote(e.target.value)} />
              <Button type="submit" className="adjust-stock" disabled={busy}>{t("product.adjust")}</Button>
            </form>
          )}
          {variant.inventoryAdjustments && variant.inventoryAdjustments.nodes.length > 0 && (
            <details className="ledger">
              <summary>{t("product.ledger")}</summary>
              <Table rows={variant.inventoryAdjustments.nodes} rowKey={(a) => a.id} columns={[
                { header: t("orders.date"), cell: (a) => formatDate(a.createdAt, lang) },
                { header: t("product.change"), cell: (a) => (a.delta > 0 ? "+" : "") + a.delta, align: "end" },
                { header: t("product.onHand"), cell: (a) => String(a.onHandAfter), align: "end" },
                { header: t("product.reason"), cell: (a) => t(`reason.${a.reason}`) },
                { header: t("product.note"), cell: (a) => a.note },
                { header: t("product.actor"), cell: (a) => a.actor },
              ]} />
            </details>
          )}
        </div>
      )}
    </div>
  );
}

function VariantCreate({ product, currencies, busy, onAct }: { product: EditorProduct; currencies: string[]; busy: boolean; onAct: Act }) {
  const { t } = useI18n();
  const [open, setOpen] = useState(false);
  const [values, setValues] = useState<Record<string, string>>({});
  const [sku, setSku] = useState("");
  const [price, setPrice] = useState("");
  const [stock, setStock] = useState("");
  if (!open) return <div className="variant-add"><Button id="add-variant" onClick={() => setOpen(true)}>{t("product.addVariant")}</Button></div>;
  function submit(e: FormEvent) {
    e.preventDefault();
    const input: Record<string, unknown> = { productId: product.id, sku };
    if (product.options.length > 0) input.selectedOptions = product.options.map((o) => ({ name: o.name, value: (values[o.name] ?? "").trim() }));
    if (price.trim() !== "") input.prices = [{ currencyCode: currencies[0], amount: price.trim() }];
    if (stock.trim() !== "") input.inventoryQuantity = Number(stock);
    void onAct(async () => {
      await mutate(VARIANT_CREATE, input);
      setOpen(false);
    }, t("product.variantAdded"));
  }
  return (
    <form className="inline-form variant-add" id="variant-create" onSubmit={submit}>
      {product.options.map((o) => (
        <Field key={o.name} id={`new-${o.name}`} label={o.name} list={`values-${o.name}`} value={values[o.name] ?? ""} onChange={(e) => setValues({ ...values, [o.name]: e.target.value })} required />
      ))}
      {product.options.map((o) => (
        <datalist key={o.name} id={`values-${o.name}`}>{o.values.map((v) => <option key={v} value={v} />)}</datalist>
      ))}
      <Field id="new-sku" label={t("order.sku")} value={sku} onChange={(e) => setSku(e.target.value)} />
      <Field id="new-price" label={t("product.priceIn", { currency: currencies[0] })} inputMode="decimal" value={price} onChange={(e) => setPrice(e.target.value)} />
      <Field id="new-stock" label={t("product.initialStock")} inputMode="numeric" value={stock} onChange={(e) => setStock(e.target.value)} />
      <Button type="submit" variant="primary" disabled={busy}>{t("product.addVariant")}</Button>
      <Button variant="plain" onClick={() => setOpen(false)}>{t("common.cancel")}</Button>
    </form>
  );
}

const PRODUCT_CREATE = `mutation($input: ProductCreateInput!) { productCreate(input: $input) { product { id } userErrors { code field message } } }`;

/** The new product form: details, options, and one variant per combination of option values. */
export function ProductCreate() {
  return (
    <Gate permission="product:write">
      <CreateForm />
    </Gate>
  );
}

function CreateForm() {
  const { t } = useI18n();
  const [, navigate] = useLocation();
  const settings = useQuery<{ shopSettings: { currencies: string[]; defaultCurrency: string } }>(`query { shopSettings { currencies defaultCurrency } }`, {});
  const [title, setTitle] = useState("");
  const [handle, setHandle] = useState("");
  const [description, setDescription] = useState("");
  const [status, setStatus] = useState<ProductStatus>("DRAFT");
  const [options, setOptions] = useState<Array<{ name: string; values: string }>>([]);
  const [sku, setSku] = useState("");
  const [price, setPrice] = useState("");
  const [stock, setStock] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const currency = settings.data?.shopSettings.defaultCurrency ?? "";

  const opts = options.map((o) => ({ name: o.name.trim(), values: splitValues(o.values) })).filter((o) => o.name !== "");
  const combos = opts.reduce<Array<Array<{ name: string; value: string }>>>((acc, o) => acc.flatMap((c) => o.values.map((v) => [...c, { name: o.name, value: v }])), [[]]);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    setBusy(true);
    const variant = (selected: Array<{ name: string; value: string }> | null, i: number) => {
      const v: Record<string, unknown> = {};
      if (sku.trim()) v.sku = selected && combos.length > 1 ? `${sku.trim()}-${i + 1}` : sku.trim();
      if (selected) v.selectedOptions = selected;
      if (price.trim()) v.prices = [{ currencyCode: currency, amount: price.trim() }];
      if (stock.trim()) v.inventoryQuantity = Number(stock);
      return v;
    };
    const input: Record<string, unknown> = { title, description, status, handle: handle.trim() || null };
    if (opts.length > 0) {
      input.options = opts;
      input.variants = combos.map((c, i) => variant(c, i));
    } else {
      input.variants = [variant(null, 0)];
    }
    try {
      const d = await gql<{ productCreate: { product: { id: string } | null; userErrors: UserError[] } }>(PRODUCT_CREATE, { input });
      check(d.productCreate);
      navigate("/products/" + d.productCreate.product!.id);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="page">
      <div className="page-header">
        <div>
          <Link href="/products" className="back">← {t("nav.products")}</Link>
          <h1>{t("products.new")}</h1>
        </div>
      </div>
      <ErrorBanner error={error ?? settings.error} />
      <form className="columns" id="product-create" onSubmit={(e) => void submit(e)}>
        <div className="main-col">
          <Card title={t("product.details")}>
            <div className="stack">
              <Field id="create-title" label={t("products.title")} value={title} onChange={(e) => setTitle(e.target.value)} required />
              <TextArea id="create-description" label={t("product.description")} value={description} onChange={(e) => setDescription(e.target.value)} />
              <Field id="create-handle" label={t("product.handle")} placeholder={t("product.handleHint")} value={handle} onChange={(e) => setHandle(e.target.value)} />
            </div>
          </Card>
          <Card title={t("product.options")}>
            <div className="stack">
              {options.length === 0 && <p className="muted">{t("product.noOptionsCreate")}</p>}
              {options.map((o, i) => (
                <div className="inline-form" key={i}>
                  <Field id={`create-option-${i}`} label={t("product.optionName")} placeholder={t("product.optionNameHint")} value={o.name}
                    onChange={(e) => setOptions(options.map((x, j) => (j === i ? { ...x, name: e.target.value } : x)))} />
                  <Field id={`create-values-${i}`} label={t("product.optionValues")} placeholder="S, M, L" value={o.values}
                    onChange={(e) => setOptions(options.map((x, j) => (j === i ? { ...x, values: e.target.value } : x)))} />
                  <Button variant="plain" onClick={() => setOptions(options.filter((_, j) => j !== i))}>{t("product.removeOption")}</Button>
                </div>
              ))}
              {options.length < 3 && <div><Button id="add-option" onClick={() => setOptions([...options, { name: "", values: "" }])}>{t("product.addOption")}</Button></div>}
              {opts.length > 0 && <p className="muted">{t("product.combinations", { count: String(combos.length) })}</p>}
            </div>
          </Card>
          <Card title={t("product.pricing")}>
            <div className="inline-form">
              <Field id="create-price" label={t("product.priceIn", { currency })} inputMode="decimal" placeholder="68.00" value={price} onChange={(e) => setPrice(e.target.value)} />
              <Field id="create-sku" label={t("order.sku")} value={sku} onChange={(e) => setSku(e.target.value)} />
              <Field id="create-stock" label={t("product.initialStock")} inputMode="numeric" value={stock} onChange={(e) => setStock(e.target.value)} />
            </div>
            <p className="muted">{t("product.pricingHint")}</p>
          </Card>
        </div>
        <div className="side-col">
          <Card title={t("products.status")}>
            <div className="stack">
              <Select id="create-status" label={t("products.status")} value={status} onChange={(e) => setStatus(e.target.value as ProductStatus)}
                options={statuses.filter((s) => s !== "ARCHIVED").map((s): [string, string] => [s, t(`productStatus.${s}`)])} />
              <Button type="submit" variant="primary" id="create-product" disabled={busy || !currency}>{t("products.create")}</Button>
            </div>
          </Card>
        </div>
      </form>
    </div>
  );
}
