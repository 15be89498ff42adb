import { useState, type FormEvent } from "react";
import { check, gql } from "../api/client";
import type { StaffLoginPayload } from "../api/schema";
import { useI18n } from "../i18n";
import { useSession } from "../session";
import { Button, Card, ErrorBanner, Field } from "../ui";
import { LangSwitch } from "./Layout";

const LOGIN = `mutation StaffLogin($input: LoginInput!) { staffLogin(input: $input) { staffMember { id } userErrors { code field message } } }`;

export function SignIn() {
  const { t } = useI18n();
  const { refresh } = useSession();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    try {
      const d = await gql<{ staffLogin: StaffLoginPayload }>(LOGIN, { input: { email, password } });
      check(d.staffLogin);
      setError(null);
      await refresh();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return (
    <AuthFrame>
      <Card title={t("auth.signInTitle")}>
        <form onSubmit={submit} className="stack">
          <ErrorBanner error={error} />
          <Field id="email" label={t("auth.email")} type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
          <Field id="password" label={t("auth.password")} type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
          <Button type="submit" variant="primary" disabled={busy} id="sign-in">
            {t("auth.signIn")}
          </Button>
        </form>
      </Card>
    </AuthFrame>
  );
}

export function AuthFrame({ children }: { children: React.ReactNode }) {
  const { t } = useI18n();
  return (
    <div className="auth">
      <div className="auth-box">
        <div className="auth-brand">
          <span className="brand">{t("app.title")}</span>
          <LangSwitch />
        </div>
        {children}
      </div>
    </div>
  );
}
