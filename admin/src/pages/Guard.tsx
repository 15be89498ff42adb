import type { ReactNode } from "react";
import { Link } from "wouter";
import { useI18n } from "../i18n";
import { useSession } from "../session";
import { EmptyState } from "../ui";

/**
 * Shows children to a role holding permission, and to others a page that
 * says so (the API refuses them anyway): a link typed by hand or kept
 * from another role lands here instead of on an error.
 */
export function Guard({ permission, children }: { permission: string; children: ReactNode }) {
  const { t } = useI18n();
  const { can } = useSession();
  if (can(permission)) return <>{children}</>;
  return (
    <div className="page" id="forbidden">
      <EmptyState title={t("common.forbidden")}>
        {t("common.forbiddenHint")} <Link href="/">{t("nav.dashboard")}</Link>
      </EmptyState>
    </div>
  );
}
