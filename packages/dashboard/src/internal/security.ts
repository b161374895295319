// Who may use the dashboard. Bound to the loopback interface it needs no token, but the Host header
// must name the loopback (a page of another site that points its own name at 127.0.0.1, "DNS
// rebinding", is refused). Bound elsewhere it needs the token: `?token=` once (kept in a cookie of
// this host and port, SameSite=Strict), or an `Authorization: Bearer` header. Everywhere, a request
// made by another origin's page is refused (its Origin header, or the browser's Sec-Fetch-Site),
// except the opening of a page in a tab, which can read nothing; and writes take JSON only, which a
// cross-site form cannot send.
import * as crypto from "node:crypto"

export interface Policy {
  /** The token every request needs, when one is required. */
  readonly token: string | undefined
  /** The Host headers accepted, when only the loopback may be named. */
  readonly hosts: ReadonlySet<string> | undefined
  /** The cookie that keeps the token. */
  readonly cookie: string
}

/** What a request carries that matters here (header names in lower case). */
export interface Incoming {
  readonly method: string
  readonly path: string
  readonly query: URLSearchParams
  readonly headers: Readonly<Record<string, string | undefined>>
}

export type Verdict =
  | { readonly _tag: "Pass" }
  | { readonly _tag: "Refuse"; readonly status: 400 | 401 | 403; readonly reason: string }
  /** A good `?token=`: keep it in the cookie and drop it from the address. */
  | { readonly _tag: "Remember"; readonly location: string; readonly cookie: string }

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "[::1]"])

/** Whether a host to bind is the loopback interface. */
export const isLoopback = (host: string): boolean => LOOPBACK.has(host.toLowerCase()) || /^127\.\d+\.\d+\.\d+$/.test(host)

/** The policy of a dashboard bound to `host:port`. */
export const policy = (host: string, port: number, token: string | undefined): Policy => ({
  token,
  hosts: isLoopback(host)
    ? new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, ...(/^127\./.test(host) ? [`${host}:${port}`] : [])])
    : undefined,
  cookie: `tunekit_token_${port}`
})

/** A random token (URL-safe). */
export const newToken = (): string => crypto.randomBytes(18).toString("base64url")

const digest = (s: string) => crypto.createHash("sha256").update(s).digest()
const same = (a: string, b: string) => crypto.timingSafeEqual(digest(a), digest(b))

const cookieValue = (header: string | undefined, name: string): string | undefined => {
  for (const part of (header ?? "").split(";")) {
    const [k, ...v] = part.trim().split("=")
    if (k === name) return decodeURIComponent(v.join("="))
  }
  return undefined
}

const bearer = (header: string | undefined) => (header?.startsWith("Bearer ") ? header.slice(7).trim() : undefined)

/** Opening a page in a tab (not a fetch, a frame or a form's POST): it cannot read or change anything. */
const isNavigation = (r: Incoming) =>
  r.method === "GET" && r.headers["sec-fetch-mode"] === "navigate" && r.headers["sec-fetch-dest"] === "document" && !r.path.startsWith("/api/")

/** Judges a request. */
export const check = (p: Policy, r: Incoming): Verdict => {
  const host = (r.headers.host ?? "").toLowerCase()
  if (p.hosts !== undefined && !p.hosts.has(host)) {
    return { _tag: "Refuse", status: 403, reason: `refused: the Host header ${JSON.stringify(r.headers.host ?? "")} does not name this dashboard (open it at http://127.0.0.1:PORT/)` }
  }
  const origin = r.headers.origin
  const site = r.headers["sec-fetch-site"]
  const foreign = (origin !== undefined && origin !== `http://${host}`) || site === "cross-site" || site === "same-site"
  if (foreign && !isNavigation(r)) {
    return { _tag: "Refuse", status: 403, reason: `refused: a request from another origin (${origin ?? site})` }
  }
  if (r.method !== "GET" && r.method !== "HEAD" && !(r.headers["content-type"] ?? "").startsWith("application/json")) {
    return { _tag: "Refuse", status: 400, reason: "refused: a write must send JSON (Content-Type: application/json)" }
  }
  // The page script, styles and ECharts hold no data: the token page loads them too.
  if (p.token === undefined || (r.path.startsWith("/static/") && r.method === "GET")) return { _tag: "Pass" }
  const given = r.query.get("token")
  if (given !== null && same(given, p.token)) {
    if (r.method !== "GET" || r.path.startsWith("/api/")) return { _tag: "Pass" }
    const rest = new URLSearchParams(r.query)
    rest.delete("token")
    const q = rest.toString()
    return {
      _tag: "Remember",
      location: `${r.path}${q === "" ? "" : `?${q}`}`,
      cookie: `${p.cookie}=${encodeURIComponent(p.token)}; Path=/; HttpOnly; SameSite=Strict`
    }
  }
  const carried = bearer(r.headers.authorization) ?? cookieValue(r.headers.cookie, p.cookie)
  if (carried !== undefined && same(carried, p.token)) return { _tag: "Pass" }
  return {
    _tag: "Refuse",
    status: 401,
    reason: given !== null || carried !== undefined
      ? "refused: the token is wrong (open the address tunekit dashboard printed, with its ?token=)"
      : "refused: this dashboard needs its token (open the address tunekit dashboard printed, with its ?token=)"
  }
}
