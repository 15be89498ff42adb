// The admin's only way to the server: POST /graphql on the same origin,
// with the session cookie and the X-Kassa-CSRF header the API requires of
// cookie-authenticated writes (docs/api.md).
import type { UserError } from "./schema";

/** An answer the API refused as a whole (transport or GraphQL error). */
export class ApiError extends Error {
  constructor(message: string, readonly code: string) {
    super(message);
  }
}

interface GraphQLResponse<T> {
  data?: T;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

/** Runs one GraphQL operation and returns its data, or throws ApiError. */
export async function gql<T>(query: string, variables?: Record<string, unknown>): Promise<T> {
  let res: Response;
  try {
    res = await fetch("/graphql", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-Kassa-CSRF": "1" },
      body: JSON.stringify({ query, variables }),
    });
  } catch (e) {
    throw new ApiError(String(e), "NETWORK");
  }
  let body: GraphQLResponse<T>;
  try {
    body = (await res.json()) as GraphQLResponse<T>;
  } catch {
    throw new ApiError(`HTTP ${res.status}`, "HTTP_" + res.status);
  }
  if (body.errors && body.errors.length > 0) {
    const e = body.errors[0];
    throw new ApiError(e.message, e.extensions?.code ?? "ERROR");
  }
  if (!body.data) throw new ApiError(`HTTP ${res.status}`, "HTTP_" + res.status);
  return body.data;
}

/** A fresh idempotency key for a write that moves money. */
export function idempotencyKey(): string {
  return "admin-" + crypto.randomUUID();
}

/** Thrown by a mutation whose payload carried userErrors. */
export class UserErrors extends Error {
  constructor(readonly errors: UserError[]) {
    super(errors.map((e) => e.message).join("; "));
  }
}

/** Throws UserErrors when a payload carries any. */
export function check<P extends { userErrors: UserError[] }>(payload: P): P {
  if (payload.userErrors.length > 0) throw new UserErrors(payload.userErrors);
  return payload;
}
