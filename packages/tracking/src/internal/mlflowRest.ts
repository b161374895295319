// MLflow's REST API (https://mlflow.org/docs/latest/api_reference/rest-api.html): one call, its
// typed failure, and whether trying again can help (network errors, timeouts, 429 and 5xx can; a
// 4xx answer says the request itself is wrong, and the same request would fail again).
import { Data, Effect } from "effect"
import { exchange, type Target, target } from "./httpThread.js"

export class MlflowError extends Data.TaggedError("MlflowError")<{
  readonly request: string
  /** The HTTP status, when the server answered. */
  readonly status?: number
  /** MLflow's error code (RESOURCE_ALREADY_EXISTS, INVALID_PARAMETER_VALUE, ...). */
  readonly code?: string
  readonly reason: string
  readonly retriable: boolean
}> {
  override get message() {
    return `${this.request}: ${this.status === undefined ? "" : `HTTP ${this.status} `}${this.code === undefined ? "" : `${this.code} `}${this.reason}`
  }
}

export interface Connection {
  /** The tracking server's URL, without a trailing slash. */
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  readonly timeoutMs: number
}

const retriableStatus = (s: number) => s === 408 || s === 429 || s >= 500

// node:http with kept-alive connections rather than fetch: fetch (undici) took about 1.2 ms of the
// study's thread a request, http.request about 0.25 ms (Node 20, a local server, 500 requests);
// and on a thread of its own (httpThread), rather than the study's.
const targets = new WeakMap<Connection, Target>()
const targetOf = (conn: Connection): Target => {
  let t = targets.get(conn)
  if (t === undefined) targets.set(conn, (t = target(conn.url)))
  return t
}

/**
 * Sends one request; JSON in and out unless `body` is bytes. The body is encoded once, when the
 * effect is made (retries send the same bytes). Numbers JSON cannot hold are the caller's to
 * write as MLflow reads them (`metricValue`).
 */
export const call = (
  conn: Connection,
  method: "GET" | "POST" | "PUT",
  path: string,
  body?: unknown,
  contentType?: string
): Effect.Effect<any, MlflowError> => {
  const bytes = body instanceof Uint8Array
  const payload = body === undefined ? undefined : bytes ? body : JSON.stringify(body)
  const headers = payload === undefined
    ? conn.headers
    : { ...conn.headers, "content-type": bytes ? contentType ?? "application/octet-stream" : "application/json", "content-length": String(Buffer.byteLength(payload)) }
  const request = () => `${method} ${path.split("?")[0]}`
  return Effect.flatMap(
    Effect.mapError(exchange(targetOf(conn), method, path, headers, payload, conn.timeoutMs), (e) =>
      new MlflowError({
        request: request(),
        reason: e.name === "TimeoutError" ? `no answer within ${conn.timeoutMs} ms` : e.message,
        retriable: true
      })),
    ({ status, text }) => {
      if (status < 200 || status >= 300) {
        let code: string | undefined
        let reason = text.slice(0, 300)
        try {
          const j = JSON.parse(text) as { error_code?: string; message?: string }
          code = j.error_code
          reason = (j.message ?? reason).split("\n")[0].slice(0, 300)
        } catch {
          // not JSON: keep the text
        }
        return Effect.fail(new MlflowError({ request: request(), status, ...(code === undefined ? {} : { code }), reason, retriable: retriableStatus(status) }))
      }
      try {
        return Effect.succeed(text === "" ? {} : JSON.parse(text))
      } catch (e) {
        return Effect.fail(new MlflowError({ request: request(), status, reason: `an answer that is not JSON: ${messageOf(e)}`, retriable: false }))
      }
    }
  )
}

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e))

/** A metric's value as MLflow reads it: NaN and infinities as the strings protobuf's JSON mapping uses. */
export const metricValue = (v: number): number | string => (Number.isFinite(v) ? v : String(v))

/** Metric and param keys: what MLflow accepts (letters, digits, `_ - . / space`), the rest as `_`. */
export const key = (k: string): string => (k.replace(/[^\w.\- /]/g, "_").slice(0, 250) || "_")

/** MLflow's limits on one log-batch request. */
export const LIMITS = { metrics: 1000, params: 100, tags: 100, total: 1000, paramValue: 6000, tagValue: 8000 } as const
