// Pieces the products, customers, staff and roles screens share: the
// permission gate in front of a screen, a query hook, a cursor pager and
// the checkbox and text area the component set lacks.
import { useCallback, useEffect, useState, type InputHTMLAttributes, type ReactNode, type TextareaHTMLAttributes } from "react";
import { gql } from "../api/client";
import { useI18n } from "../i18n";
import { useSession } from "../session";
import { Button, EmptyState } from "../ui";

/**
 * Shows the screen only to roles holding the permission; others learn
 * why the screen is empty instead of seeing an API error.
 */
export function Gate({ permission, children }: { permission: string; children: ReactNode }) {
  const { can } = useSession();
  const { t } = useI18n();
  if (!can(permission)) {
    return (
      <div className="page" id="forbidden">
        <EmptyState title={t("gate.title")}>{t("gate.hint", { permission })}</EmptyState>
      </div>
    );
  }
  return <>{children}</>;
}

/** Runs a query whenever its text or variables change; reload runs it again. */
export function useQuery<T>(query: string, variables: Record<string, unknown>) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const key = query + JSON.stringify(variables);
  const reload = useCallback(async () => {
    setError(null);
    try {
      setData(await gql<T>(query, variables));
    } catch (e) {
      setError(e);
    }
    // The key stands for query and variables, whose identity changes every render.
  }, [key]);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { data, error, reload };
}

/**
 * Cursor pages in state: the cursors of the pages before this one, so
 * Previous works on an API that only pages forward.
 */
export function useCursor() {
  const [stack, setStack] = useState<string[]>([]);
  const after = stack.length > 0 ? stack[stack.length - 1] : null;
  return {
    after,
    next(cursor: string | null | undefined) {
      if (cursor) setStack((s) => [...s, cursor]);
    },
    prev() {
      setStack((s) => s.slice(0, -1));
    },
    reset() {
      setStack([]);
    },
    hasPrev: stack.length > 0,
  };
}

export function Pager({ hasPrev, hasNext, onPrev, onNext }: { hasPrev: boolean; hasNext: boolean; onPrev(): void; onNext(): void }) {
  const { t } = useI18n();
  return (
    <div className="pager">
      {hasPrev && <Button id="prev-page" onClick={onPrev}>{t("pb.prev")}</Button>}
      {hasNext && <Button id="next-page" onClick={onNext}>{t("common.next")}</Button>}
    </div>
  );
}

export function Check({ label, id, ...rest }: InputHTMLAttributes<HTMLInputElement> & { label: ReactNode; id?: string }) {
  return (
    <label className="check" htmlFor={id}>
      <input type="checkbox" id={id} {...rest} /> <span>{label}</span>
    </label>
  );
}

export function TextArea({ label, id, ...rest }: TextareaHTMLAttributes<HTMLTextAreaElement> & { label: string; id: string }) {
  return (
    <div className="field field-prose">
      <label htmlFor={id}>{label}</label>
      <textarea id={id} rows={4} {...rest} />
    </div>
  );
}

/** A success message after an action. */
export function Notice({ children }: { children: ReactNode }) {
  if (!children) return null;
  return (
    <div className="banner banner-success" role="status">
      {children}
    </div>
  );
}
