import { useEffect, useState, type FormEvent } from "react";
import { useLocation, useSearch } from "wouter";
import { check, gql } from "../api/client";
import type { UserError } from "../api/schema";
import { useI18n, type Key } from "../i18n";
import { useSession } from "../session";
import { Button, Card, ErrorBanner, Field } from "../ui";
import { AuthFrame } from "./SignIn";

/**
 * The screens a one-time link opens, each redeeming its token with a
 * password: the owner setup that kassa serve prints on the first start,
 * a staff invitation, and a staff password reset (the links notify mails).
 */
const flows = {
  setup: {
    title: "auth.setupTitle", intro: "auth.setupIntro", submit: "auth.setupSubmit", email: true, name: true, signsIn: true,
    mutation: `mutation($input: StaffSetupOwnerInput!) { result: staffSetupOwner(input: $input) { userErrors { code field message } } }`,
  },
  invitation: {
    title: "auth.inviteTitle", intro: "auth.inviteIntro", submit: "auth.inviteSubmit", email: false, name: true, signsIn: true,
    mutation: `mutation($input: StaffAcceptInvitationInput!) { result: staffAcceptInvitation(input: $input) { userErrors { code field message } } }`,
  },
  reset: {
    title: "auth.resetTitle", intro: "auth.resetIntro", submit: "auth.resetSubmit", email: false, name: false, signsIn: false,
    mutation: `mutation($input: CustomerResetPasswordInput!) { result: staffResetPassword(input: $input) { userErrors { code field message } } }`,
  },
} satisfies Record<string, { title: Key; intro: Key; submit: Key; email: boolean; name: boolean; signsIn: boolean; mutation: string }>;

const tokenKey = (flow: string) => "kassa.linkToken." + flow;

/**
 * Reads a one-time link's token and takes it out of the address bar (and
 * so out of the browser's history, bookmarks and screen shares): it stays
 * in this tab's sessionStorage, so a reload still finds it, until the
 * form redeems it.
 */
function useLinkToken(flow: string, search: string): string {
  const [token] = useState(() => {
    const fromURL = new URLSearchParams(search).get("token");
    if (fromURL) {
      sessionStorage.setItem(tokenKey(flow), fromURL);
      return fromURL;
    }
    return sessionStorage.getItem(tokenKey(flow)) ?? "";
  });
  useEffect(() => {
    const url = new URL(window.location.href);
    if (url.searchParams.has("token")) {
      url.searchParams.delete("token");
      window.history.replaceState(window.history.state, "", url.pathname + url.search + url.hash);
    }
  }, []);
  return token;
}

export function TokenScreen({ flow }: { flow: keyof typeof flows }) {
  const f = flows[flow];
  const { t } = useI18n();
  const { refresh } = useSession();
  const [, navigate] = useLocation();
  const token = useLinkToken(flow, useSearch());
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    try {
      const input: Record<string, unknown> = { token, password };
      if (f.email) input.email = email;
      if (f.name && name.trim()) input.name = name.trim();
      const d = await gql<{ result: { userErrors: UserError[] } }>(f.mutation, { input });
      check(d.result);
      sessionStorage.removeItem(tokenKey(flow));
      if (f.signsIn) await refresh();
      navigate("/", { replace: true });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return (
    <AuthFrame>
      <Card title={t(f.title)}>
        {token === "" ? (
          <ErrorBanner error={new Error(t("auth.noToken"))} />
        ) : (
          <form onSubmit={submit} className="stack" id="token-form">
            <p className="muted">{t(f.intro)}</p>
            <ErrorBanner error={error} />
            {f.name && <Field id="name" label={t("auth.name")} autoComplete="name" value={name} onChange={(e) => setName(e.target.value)} />}
            {f.email && <Field id="email" label={t("auth.email")} type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />}
            <Field id="password" label={t("auth.newPassword")} type="password" autoComplete="new-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
            <Button type="submit" variant="primary" disabled={busy} id="token-submit">
              {t(f.submit)}
            </Button>
          </form>
        )}
      </Card>
    </AuthFrame>
  );
}
