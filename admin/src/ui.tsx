// The admin's small component set; styles in styles.css.
import type { ButtonHTMLAttributes, InputHTMLAttributes, ReactNode, SelectHTMLAttributes } from "react";
import { useEffect, useRef } from "react";
import { useI18n, type Lang } from "./i18n";
import type { UserError } from "./api/schema";

type Variant = "primary" | "secondary" | "critical" | "plain";

export function Button({ variant = "secondary", className, ...rest }: ButtonHTMLAttributes<HTMLButtonElement> & { variant?: Variant }) {
  return <button type="button" {...rest} className={`btn btn-${variant}${className ? " " + className : ""}`} />;
}

export function Card({ title, actions, children }: { title?: ReactNode; actions?: ReactNode; children: ReactNode }) {
  return (
    <section className="card">
      {(title || actions) && (
        <header className="card-header">
          {title && <h2>{title}</h2>}
          {actions && <div className="card-actions">{actions}</div>}
        </header>
      )}
      <div className="card-body">{children}</div>
    </section>
  );
}

/** A labelled input; error, when set, shows under it and marks it invalid. */
export function Field({ label, id, error, ...rest }: InputHTMLAttributes<HTMLInputElement> & { label: string; id: string; error?: string }) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} aria-invalid={error ? true : undefined} aria-describedby={error ? id + "-error" : undefined} {...rest} />
      {error && <p className="field-error" id={id + "-error"} role="alert">{error}</p>}
    </div>
  );
}

export function Select({ label, id, options, ...rest }: SelectHTMLAttributes<HTMLSelectElement> & { label: string; id: string; options: Array<[string, string]> }) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} {...rest}>
        {options.map(([v, l]) => (
          <option key={v} value={v}>
            {l}
          </option>
        ))}
      </select>
    </div>
  );
}

const tones: Record<string, string> = {
  PAID: "success", CAPTURED: "success", SUCCEEDED: "success", COMPLETED: "success", DELIVERED: "success", FULFILLED: "success", APPLIED: "success",
  PENDING: "attention", AUTHORIZED: "attention", PARTIALLY_FULFILLED: "attention", PARTIALLY_PAID: "attention", PARTIALLY_REFUNDED: "attention", UNKNOWN: "attention", UNFULFILLED: "attention",
  FAILED: "critical", REFUSED: "critical", VOIDED: "neutral", CANCELLED: "neutral", REFUNDED: "neutral", OPEN: "info",
};

/** A status shown as a coloured pill; the tone follows the value. */
export function Badge({ value, label }: { value: string; label?: string }) {
  return <span className={`badge badge-${tones[value] ?? "neutral"}`}>{label ?? value.replace(/_/g, " ").toLowerCase()}</span>;
}

export interface Column<T> {
  header: ReactNode;
  cell(row: T): ReactNode;
  align?: "end";
}

export function Table<T>({ columns, rows, rowKey, onRowClick }: { columns: Column<T>[]; rows: T[]; rowKey(row: T): string; onRowClick?(row: T): void }) {
  return (
    <div className="table-wrap">
      <table className="table">
        {columns.some((c) => c.header !== "") && (
          <thead>
            <tr>
              {columns.map((c, i) => (
                <th key={i} className={c.align === "end" ? "num" : undefined}>
                  {c.header}
                </th>
              ))}
            </tr>
          </thead>
        )}
        <tbody>
          {rows.map((r) => (
            <tr key={rowKey(r)} className={onRowClick ? "clickable" : undefined} onClick={onRowClick ? () => onRowClick(r) : undefined}>
              {columns.map((c, i) => (
                <td key={i} className={c.align === "end" ? "num" : undefined}>
                  {c.cell(r)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <p className="empty-title">{title}</p>
      {children && <p className="empty-hint">{children}</p>}
    </div>
  );
}

/** An error from the API: its message, and each userError's message. */
export function ErrorBanner({ error, onRetry, retryLabel }: { error: unknown; onRetry?(): void; retryLabel?: string }) {
  // A refusal shown above a long card must not look like a click that did
  // nothing: the banner comes into view when an error arrives.
  const ref = useRef<HTMLDivElement>(null);
  const { errorText } = useI18n();
  useEffect(() => {
    if (error) ref.current?.scrollIntoView({ block: "nearest", behavior: "smooth" });
  }, [error]);
  if (!error) return null;
  const errs: UserError[] | null = (error as { errors?: UserError[] }).errors ?? null;
  return (
    <div className="banner banner-critical" role="alert" ref={ref}>
      {errs ? (
        <ul>
          {errs.map((e, i) => (
            <li key={i}>
              {errorText(e.code, e.message)} <code className="error-code">{e.code}</code>
            </li>
          ))}
        </ul>
      ) : (
        <p>
          {errorText((error as { code?: string }).code, error instanceof Error ? error.message : String(error))}
          {(error as { code?: string }).code && <code className="error-code"> {(error as { code?: string }).code}</code>}
        </p>
      )}
      {onRetry && (
        <Button variant="plain" onClick={onRetry}>
          {retryLabel}
        </Button>
      )}
    </div>
  );
}

export function Spinner({ label }: { label: string }) {
  return <p className="loading">{label}</p>;
}

/** The parts of a postal address the API gives (MailingAddress, Address). */
export interface AddressParts {
  firstName: string; lastName: string; company?: string | null; line1: string; line2?: string | null;
  city: string; province?: string | null; postalCode?: string | null; countryCode: string; phone?: string | null;
}

// Where addresses are written from the country down and names family name first.
const eastAsian = new Set(["CN", "TW", "HK", "MO", "JP", "KR"]);
const latin = /[A-Za-z\u00C0-\u024F]/;

/** The country's name in the admin's language (中国, China), or its code. */
function regionName(code: string, lang: Lang): string {
  try {
    return new Intl.DisplayNames([lang], { type: "region" }).of(code) ?? code;
  } catch {
    return code;
  }
}

/**
 * The lines of a postal address as its country writes it: a Chinese (or
 * Japanese, Korean) address from the country down to the street, 王芳
 * family name first; others from the street up, "Anna Müller". Latin
 * script keeps the Western order even on a Chinese address.
 */
export function addressLines(a: AddressParts, lang: Lang): string[] {
  const east = eastAsian.has(a.countryCode);
  const name = east && !latin.test(a.firstName + a.lastName) ? `${a.lastName}${a.firstName}` : [a.firstName, a.lastName].filter(Boolean).join(" ");
  const country = regionName(a.countryCode, lang);
  const lines = east && !latin.test(a.line1 + a.city)
    ? [name, a.company, [country, a.province, a.city].filter(Boolean).join(" "), [a.line1, a.line2].filter(Boolean).join(" "), a.postalCode]
    : [name, a.company, a.line1, a.line2, [a.postalCode, a.city, a.province].filter(Boolean).join(" "), country];
  return [...lines, a.phone].filter((l): l is string => !!l);
}
