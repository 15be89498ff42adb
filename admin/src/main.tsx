import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { Route, Router, Switch } from "wouter";
import { I18nProvider, useI18n } from "./i18n";
import { Dashboard } from "./pages/Dashboard";
import { Guard } from "./pages/Guard";
import { PluginDetail, Plugins } from "./pages/Plugins";
import { SettingsPage } from "./pages/Settings";
import { Layout } from "./pages/Layout";
import { OrderDetail } from "./pages/OrderDetail";
import { Orders } from "./pages/Orders";
import { Payments } from "./pages/Payments";
import { CustomerDetail, CustomerGroups, Customers } from "./pages/Customers";
import { ProductCreate, ProductEditor, Products } from "./pages/Products";
import { Roles } from "./pages/Roles";
import { Staff } from "./pages/Staff";
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
        <Route path="/products" component={Products} />
        <Route path="/products/new" component={ProductCreate} />
        <Route path="/products/:id">{(p) => <ProductEditor id={p.id} />}</Route>
        <Route path="/customers" component={Customers} />
        <Route path="/customers/groups" component={CustomerGroups} />
        <Route path="/customers/:id">{(p) => <CustomerDetail id={p.id} />}</Route>
        <Route path="/staff" component={Staff} />
        <Route path="/roles">{() => <Roles />}</Route>
        <Route path="/roles/:name">{(p) => <Roles name={decodeURIComponent(p.name)} />}</Route>
        <Route path="/plugins"><Guard permission="plugin:read"><Plugins /></Guard></Route>
        <Route path="/plugins/:id">{(p) => <Guard permission="plugin:read"><PluginDetail id={decodeURIComponent(p.id)} /></Guard>}</Route>
        <Route path="/payments" component={Payments} />
        <Route path="/settings"><Guard permission="settings:read"><SettingsPage /></Guard></Route>
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
