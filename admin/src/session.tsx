// Who is signed in: the viewer query, read once at start and after each
// sign-in, with its permissions to decide what the admin offers.
import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from "react";
import { gql } from "./api/client";
import type { StaffMember, Viewer } from "./api/schema";

export type SessionViewer = Pick<Viewer, "kind" | "roles" | "permissions"> & { staffMember: Pick<StaffMember, "id" | "name" | "email"> | null };

export const VIEWER = `query Viewer { viewer { kind roles permissions staffMember { id name email } } }`;

interface Session {
  viewer: SessionViewer | null;
  loading: boolean;
  error: unknown;
  refresh(): Promise<void>;
  signOut(): Promise<void>;
  /** Whether the viewer holds the permission (order:write, refund:write, ...). */
  can(permission: string): boolean;
}

const SessionContext = createContext<Session | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [viewer, setViewer] = useState<SessionViewer | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const refresh = useCallback(async () => {
    setLoading(true);
    try {
      const d = await gql<{ viewer: SessionViewer }>(VIEWER);
      setViewer(d.viewer.kind === "STAFF" ? d.viewer : null);
      setError(null);
    } catch (e) {
      setError(e);
    } finally {
      setLoading(false);
    }
  }, []);
  useEffect(() => {
    void refresh();
  }, [refresh]);
  const signOut = useCallback(async () => {
    await gql<{ logout: { loggedOut: boolean } }>(`mutation { logout { loggedOut } }`);
    setViewer(null);
  }, []);
  const can = useCallback((p: string) => viewer?.permissions.includes(p) ?? false, [viewer]);
  return <SessionContext.Provider value={{ viewer, loading, error, refresh, signOut, can }}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error("useSession outside SessionProvider");
  return s;
}
