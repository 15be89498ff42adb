import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { Route, Router, Switch } from "wouter";
import { I18nProvider, useI18n } from "./i18n";
import { Dashboard } from "./pages/Dashboard";
import { Layout } from "./pages/Layout";
import { OrderDetail } from "./pages/OrderDetail";
import { Orders } from "./pages/Orders";
import { TokenScreen } from "./pages/Setup";
import { SignIn } from "./pages/SignIn";
import { SessionProvider, useSession } from "./session";
import { EmptyState, ErrorBanner, Spinner } from "./ui";
import "./styles.css";

function App() {
  const { t } = useI18n();
  const { viewer, loading, error, refresh } = useSession();
  if (loading && !viewer) return <Spinner label={t("common.loading")} />;
  if (error && !viewer) return <ErrorBanner error={error} onRetry={() => void refresh()} retryLabel={t("common.retry")} />;
  if (!viewer) {
    return (
      <Switch>
        <Route path="/setup"><TokenScreen flow="setup" /></Route>
        <Route path="/accept-invitation"><TokenScreen flow="invitation" /></Route>
        <Route path="/reset-password"><TokenScreen flow="reset" /></Route>
        <Route component={SignIn} />
      </Switch>
    );
  }
  return (
    <Layout>
      <Switch>
        <Route path="/" component={Dashboard} />
        <Route path="/orders" component={Orders} />
        <Route path="/orders/:id">{(p) => <OrderDetail id={p.id} />}</Route>
        <Route>
          <EmptyState title="404" />
        </Route>
      </Switch>
    </Layout>
  );
}

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <I18nProvider>
      <SessionProvider>
        <Router base="/admin">
          <App />
        </Router>
      </SessionProvider>
    </I18nProvider>
  </StrictMode>,
);
