import type { ReactNode } from "react";
import { Link, useRoute } from "wouter";
import { useI18n, type Key, type Lang } from "../i18n";
import { useSession } from "../session";
import { Button } from "../ui";

/** The sections of the admin, each shown to roles holding its permission. */
export const sections: Array<{ path: string; label: Key; permission: string }> = [
  { path: "/", label: "nav.dashboard", permission: "order:read" },
  { path: "/orders", label: "nav.orders", permission: "order:read" },
  { path: "/products", label: "nav.products", permission: "product:read" },
  { path: "/customers", label: "nav.customers", permission: "customer:read" },
  { path: "/staff", label: "nav.staff", permission: "staff:read" },
  { path: "/roles", label: "nav.roles", permission: "role:read" },
  { path: "/plugins", label: "nav.plugins", permission: "plugin:read" },
  { path: "/payments", label: "nav.payments", permission: "payment:read" },
  { path: "/settings", label: "nav.settings", permission: "settings:read" },
];

export function LangSwitch() {
  const { lang, setLang, t } = useI18n();
  return (
    <select aria-label={t("lang.label")} className="lang" value={lang} onChange={(e) => setLang(e.target.value as Lang)}>
      <option value="en">English</option>
      <option value="zh-CN">简体中文</option>
    </select>
  );
}

function NavItem({ path, children }: { path: string; children: ReactNode }) {
  const [exact] = useRoute(path);
  const [nested] = useRoute(path === "/" ? "/__none" : path + "/*");
  return (
    <Link href={path} className={exact || nested ? "nav-item active" : "nav-item"}>
      {children}
    </Link>
  );
}

export function Layout({ children }: { children: ReactNode }) {
  const { t } = useI18n();
  const { viewer, can, signOut } = useSession();
  return (
    <div className="frame">
      <header className="topbar">
        <span className="brand">{t("app.title")}</span>
        <div className="topbar-end">
          <LangSwitch />
          <span className="who" id="staff-name">
            {viewer?.staffMember?.name || viewer?.staffMember?.email}
          </span>
          <Button variant="plain" id="sign-out" onClick={() => void signOut()}>
            {t("auth.signOut")}
          </Button>
        </div>
      </header>
      <nav className="sidenav" aria-label="main">
        {sections
          .filter((s) => can(s.permission))
          .map((s) => (
            <NavItem key={s.path} path={s.path}>
              {t(s.label)}
            </NavItem>
          ))}
      </nav>
      <main className="content">{children}</main>
    </div>
  );
}
