// A small dictionary in English and Simplified Chinese, chosen from the
// browser's language and switchable; the choice is remembered.
import { createContext, useContext, useState, type ReactNode } from "react";
import * as partA from "./i18n/partA";
import * as partB from "./i18n/partB";

export type Lang = "en" | "zh-CN";

const en = {
  "app.title": "Kassa admin",
  "nav.dashboard": "Dashboard",
  "nav.orders": "Orders",
  "nav.products": "Products",
  "nav.customers": "Customers",
  "nav.staff": "Staff",
  "nav.plugins": "Plugins",
  "nav.settings": "Settings",
  "auth.signIn": "Sign in",
  "auth.signOut": "Sign out",
  "auth.email": "Email",
  "auth.password": "Password",
  "auth.name": "Your name",
  "auth.signInTitle": "Sign in to your shop",
  "auth.setupTitle": "Create the shop's owner",
  "auth.setupIntro": "Use the one-time setup link that kassa serve printed. You become the shop's owner.",
  "auth.setupSubmit": "Create owner and sign in",
  "auth.noToken": "This link has no token. Open the whole link you were given.",
  "auth.newPassword": "New password",
  "auth.inviteTitle": "Join the shop's staff",
  "auth.inviteIntro": "You were invited to work in this shop. Choose a password to accept.",
  "auth.inviteSubmit": "Accept and sign in",
  "auth.resetTitle": "Choose a new password",
  "auth.resetIntro": "Your other sessions end when the password changes.",
  "auth.resetSubmit": "Set password",
  "auth.notStaff": "This account is not a staff member.",
  "common.loading": "Loading…",
  "common.retry": "Retry",
  "common.next": "Next",
  "common.first": "First page",
  "common.search": "Search",
  "common.all": "All",
  "common.cancel": "Cancel",
  "common.back": "Back",
  "common.none": "None",
  "lang.label": "Language",
  "orders.title": "Orders",
  "orders.export": "Export CSV",
  "orders.searchPlaceholder": "Order number or email",
  "orders.status": "Status",
  "orders.paymentStatus": "Payment",
  "orders.fulfillment": "Fulfillment",
  "orders.number": "Order",
  "orders.date": "Date",
  "orders.customer": "Customer",
  "orders.total": "Total",
  "orders.empty": "No orders match.",
  "orders.emptyHint": "Orders appear here once buyers check out.",
  "orders.countOf": "{range} of {total}",
  "orders.countOfMore": "{range} of more than {total}",
  "orders.countRange": "{range}",
  "orders.countTotal": "{total} orders",
  "orders.countTotalMore": "More than {total} orders",
  "order.lines": "Items",
  "order.sku": "SKU",
  "order.quantity": "Qty",
  "order.unitPrice": "Price",
  "order.subtotal": "Subtotal",
  "order.shipping": "Shipping",
  "order.tax": "Tax",
  "order.taxIncluded": "Tax (included)",
  "order.discounts": "Discounts",
  "order.total": "Total",
  "order.paid": "Paid",
  "order.refunded": "Refunded",
  "order.outstanding": "Outstanding",
  "order.timeline": "Timeline",
  "order.payments": "Payments",
  "order.events": "Gateway events",
  "order.ledger": "Ledger",
  "order.refunds": "Refunds",
  "order.customer": "Customer",
  "order.shipTo": "Shipping address",
  "order.guest": "Guest",
  "order.notFound": "This order does not exist or you may not see it.",
  "order.capture": "Capture",
  "order.refund": "Refund",
  "order.refundAmount": "Amount to refund",
  "order.refundReason": "Reason",
  "order.refundSubmit": "Refund",
  "order.refundMade": "Refunded {amount}: {state}.",
  "order.confirmTransfer": "Confirm bank transfer",
  "order.transferAmount": "Amount received",
  "order.cancel": "Cancel order",
  "order.cancelReason": "Reason (shown to the buyer)",
  "order.cancelSubmit": "Cancel order",
  "order.noPayments": "No payment was started yet.",
  "order.noEvents": "No gateway events.",
  "order.flagResolved": "Resolved {at}",
  "order.flagResolvedNote": "Resolved {at}: {note}",
  "order.noLedger": "No money moved yet.",
  "order.capturedOf": "{captured} captured of {amount}",
  "dash.title": "Dashboard",
  "dash.todayOrders": "Orders today",
  "dash.todayRevenue": "Revenue today",
  "dash.unpaid": "Orders awaiting payment",
  "dash.gateways": "Payments by gateway (last 30 days)",
  "dash.gateway": "Gateway",
  "dash.attempts": "Attempts",
  "dash.successRate": "Success rate",
  "dash.captured": "Captured",
  "dash.noPayments": "No payment attempts in the last 30 days.",
  "dash.more": "or more",
} as const;

export type Key = keyof typeof en | keyof typeof partA.en | keyof typeof partB.en;

const zh: Record<keyof typeof en, string> = {
  "app.title": "Kassa 后台",
  "nav.dashboard": "概览",
  "nav.orders": "订单",
  "nav.products": "商品",
  "nav.customers": "客户",
  "nav.staff": "员工",
  "nav.plugins": "插件",
  "nav.settings": "设置",
  "auth.signIn": "登录",
  "auth.signOut": "退出登录",
  "auth.email": "邮箱",
  "auth.password": "密码",
  "auth.name": "您的姓名",
  "auth.signInTitle": "登录您的店铺",
  "auth.setupTitle": "创建店铺所有者",
  "auth.setupIntro": "请使用 kassa serve 打印的一次性设置链接。您将成为店铺所有者。",
  "auth.setupSubmit": "创建所有者并登录",
  "auth.noToken": "此链接缺少令牌。请打开您收到的完整链接。",
  "auth.newPassword": "新密码",
  "auth.inviteTitle": "加入店铺员工",
  "auth.inviteIntro": "您受邀在此店铺工作。设置密码即可接受邀请。",
  "auth.inviteSubmit": "接受并登录",
  "auth.resetTitle": "设置新密码",
  "auth.resetIntro": "密码更改后，您的其他会话将结束。",
  "auth.resetSubmit": "设置密码",
  "auth.notStaff": "此账户不是员工账户。",
  "common.loading": "加载中…",
  "common.retry": "重试",
  "common.next": "下一页",
  "common.first": "第一页",
  "common.search": "搜索",
  "common.all": "全部",
  "common.cancel": "取消",
  "common.back": "返回",
  "common.none": "无",
  "lang.label": "语言",
  "orders.title": "订单",
  "orders.export": "导出 CSV",
  "orders.searchPlaceholder": "订单号或邮箱",
  "orders.status": "状态",
  "orders.paymentStatus": "付款",
  "orders.fulfillment": "发货",
  "orders.number": "订单",
  "orders.date": "日期",
  "orders.customer": "客户",
  "orders.total": "总计",
  "orders.empty": "没有符合条件的订单。",
  "orders.emptyHint": "买家结账后，订单会显示在这里。",
  "orders.countOf": "第 {range} 条，共 {total} 条",
  "orders.countOfMore": "第 {range} 条，共超过 {total} 条",
  "orders.countRange": "第 {range} 条",
  "orders.countTotal": "共 {total} 条",
  "orders.countTotalMore": "超过 {total} 条",
  "order.lines": "商品",
  "order.sku": "SKU",
  "order.quantity": "数量",
  "order.unitPrice": "单价",
  "order.subtotal": "小计",
  "order.shipping": "运费",
  "order.tax": "税费",
  "order.taxIncluded": "税费（已含）",
  "order.discounts": "折扣",
  "order.total": "总计",
  "order.paid": "已付",
  "order.refunded": "已退款",
  "order.outstanding": "待付",
  "order.timeline": "时间线",
  "order.payments": "付款",
  "order.events": "支付网关事件",
  "order.ledger": "账目",
  "order.refunds": "退款",
  "order.customer": "客户",
  "order.shipTo": "收货地址",
  "order.guest": "访客",
  "order.notFound": "此订单不存在，或您无权查看。",
  "order.capture": "扣款",
  "order.refund": "退款",
  "order.refundAmount": "退款金额",
  "order.refundReason": "原因",
  "order.refundSubmit": "退款",
  "order.refundMade": "退款 {amount}：{state}。",
  "order.confirmTransfer": "确认银行转账",
  "order.transferAmount": "到账金额",
  "order.cancel": "取消订单",
  "order.cancelReason": "原因（买家可见）",
  "order.cancelSubmit": "取消订单",
  "order.noPayments": "尚未发起付款。",
  "order.noEvents": "没有支付网关事件。",
  "order.flagResolved": "已于 {at} 处理",
  "order.flagResolvedNote": "已于 {at} 处理：{note}",
  "order.noLedger": "尚无资金变动。",
  "order.capturedOf": "已扣款 {captured}，共 {amount}",
  "dash.title": "概览",
  "dash.todayOrders": "今日订单",
  "dash.todayRevenue": "今日收入",
  "dash.unpaid": "待付款订单",
  "dash.gateways": "各支付网关付款情况（近 30 天）",
  "dash.gateway": "支付网关",
  "dash.attempts": "付款尝试",
  "dash.successRate": "成功率",
  "dash.captured": "已扣款",
  "dash.noPayments": "近 30 天没有付款尝试。",
  "dash.more": "或更多",
};

const dictionaries: Record<Lang, Record<Key, string>> = { en: { ...en, ...partA.en, ...partB.en }, "zh-CN": { ...zh, ...partA.zhCN, ...partB.zhCN } };

/** The language of the browser, when it is one the admin speaks. */
export function defaultLang(): Lang {
  const saved = localStorage.getItem("kassa.admin.lang");
  if (saved === "en" || saved === "zh-CN") return saved;
  return navigator.language.toLowerCase().startsWith("zh") ? "zh-CN" : "en";
}

interface I18n {
  lang: Lang;
  setLang(l: Lang): void;
  t(key: Key, vars?: Record<string, string>): string;
  /**
   * The words for an API enum value (PARTIALLY_PAID) in the group of its
   * enum (paymentStatus): the dictionary's label, or, for a value the
   * dictionary does not know yet (or without a group), the value made
   * readable (partially paid) rather than a raw key.
   */
  label(group: LabelGroup | undefined, value: string): string;
  /**
   * The words for an API error: the server's message, which is English
   * and names the amounts and fields involved, or in another language the
   * dictionary's sentence for its code (error.CODE) when it has one.
   */
  errorText(code: string | undefined, message: string): string;
  /** The dictionary's words for key, or fallback when it has none (a custom role's name). */
  maybe(key: string, fallback: string): string;
  /**
   * The words for a text the server wrote: the dictionary's words for key
   * when text is what the dictionary says for key in English (a default
   * the server seeded), else text as it came (someone wrote their own).
   */
  known(key: string, text: string): string;
}

/** The groups of enum labels: the part of a key before its value. */
export type LabelGroup =
  | "orderStatus" | "paymentStatus" | "fulfillmentStatus"
  | "paymentState" | "paymentEventOutcome" | "paymentEventFlag" | "paymentEventSource"
  | "paymentLedgerKind" | "refundState" | "timelineKind" | "actorKind"
  | "pluginKind" | "pluginHealth" | "deliveryStatus" | "capability";

const I18nContext = createContext<I18n | null>(null);

export function I18nProvider({ children }: { children: ReactNode }) {
  const [lang, setLangState] = useState<Lang>(defaultLang);
  document.documentElement.lang = lang;
  const value: I18n = {
    lang,
    setLang(l) {
      localStorage.setItem("kassa.admin.lang", l);
      setLangState(l);
    },
    t(key, vars) {
      let s: string = dictionaries[lang][key];
      for (const [k, v] of Object.entries(vars ?? {})) s = s.replace(`{${k}}`, v);
      return s;
    },
    label(group, value) {
      const s: string | undefined = group && (dictionaries[lang] as Record<string, string>)[`${group}.${value}`];
      return s ?? value.replace(/_/g, " ").toLowerCase();
    },
    errorText(code, message) {
      if (lang === "en" || !code) return message;
      return (dictionaries[lang] as Record<string, string>)[`error.${code}`] ?? message;
    },
    maybe(key, fallback) {
      return (dictionaries[lang] as Record<string, string>)[key] ?? fallback;
    },
    known(key, text) {
      return (dictionaries.en as Record<string, string>)[key] === text ? (dictionaries[lang] as Record<string, string>)[key] : text;
    },
  };
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  const c = useContext(I18nContext);
  if (!c) throw new Error("useI18n outside I18nProvider");
  return c;
}

/**
 * The language tags, best first, whose texts a reader of each admin
 * language reads: zh and zh-Hans serve zh-CN, zh-TW (another script)
 * does not, as the API's Plugin.displayName(language:) decides.
 */
const readableTags: Record<Lang, string[]> = { en: ["en"], "zh-CN": ["zh-cn", "zh-hans-cn", "zh-hans", "zh"] };

/** The text for lang among texts keyed by BCP 47 tag ({"zh-CN": "…"}); undefined when none fits. */
export function localized(texts: Record<string, string> | undefined, lang: Lang): string | undefined {
  if (!texts) return undefined;
  const byTag = new Map(Object.entries(texts).map(([tag, text]) => [tag.toLowerCase(), text]));
  for (const tag of readableTags[lang]) {
    const text = byTag.get(tag);
    if (typeof text === "string" && text.trim() !== "") return text;
  }
  return undefined;
}

/** Formats an instant in the chosen language, in the browser's time zone. */
export function formatDate(iso: string | null | undefined, lang: Lang): string {
  if (!iso) return "";
  return new Date(iso).toLocaleString(lang, { dateStyle: "medium", timeStyle: "short" });
}

/** Formats a Money for display: the API's decimal text with its currency. */
export function formatMoney(m: { amount: string; currencyCode: string } | null | undefined, lang: Lang): string {
  if (!m) return "";
  const n = Number(m.amount);
  try {
    return new Intl.NumberFormat(lang, { style: "currency", currency: m.currencyCode }).format(n);
  } catch {
    return `${m.amount} ${m.currencyCode}`;
  }
}
