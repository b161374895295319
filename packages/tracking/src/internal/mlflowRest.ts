// MLflow's REST API (https://mlflow.org/docs/latest/api_reference/rest-api.html): one call, its
// typed failure, and whether trying again can help (network errors, timeouts, 429 and 5xx can; a
// 4xx answer says the request itself is wrong, and the same request would fail again).
import { Data, Effect } from "effect"

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

/** Sends one request; JSON in and out unless `body` is bytes. */
export const call = (
  conn: Connection,
  method: "GET" | "POST" | "PUT",
  path: string,
  body?: unknown,
  contentType?: string
): Effect.Effect<any, MlflowError> => {
  const request = `${method} ${path.split("?")[0]}`
  return Effect.tryPromise({
    try: async (signal) => {
      const bytes = body instanceof Uint8Array
      const res = await fetch(conn.url + path, {
        method,
        headers: {
          ...conn.headers,
          ...(body === undefined ? {} : { "content-type": bytes ? contentType ?? "application/octet-stream" : "application/json" })
        },
        ...(body === undefined ? {} : { body: bytes ? new Uint8Array(body) : JSON.stringify(body, nonFinite) }),
        signal: AbortSignal.any([signal, AbortSignal.timeout(conn.timeoutMs)])
      })
      const text = await res.text()
      if (!res.ok) {
        let code: string | undefined
        let reason = text.slice(0, 300)
        try {
          const j = JSON.parse(text) as { error_code?: string; message?: string }
          code = j.error_code
          reason = (j.message ?? reason).split("\n")[0].slice(0, 300)
        } catch {
          // not JSON: keep the text
        }
        throw new MlflowError({ request, status: res.status, ...(code === undefined ? {} : { code }), reason, retriable: retriableStatus(res.status) })
      }
      return text === "" ? {} : JSON.parse(text)
    },
    catch: (e) =>
      e instanceof MlflowError
        ? e
        : new MlflowError({
          request,
          reason: e instanceof Error ? (e.name === "TimeoutError" ? `no answer within ${conn.timeoutMs} ms` : causeText(e)) : String(e),
          retriable: true
        })
  })
}

// fetch's "fetch failed" hides the reason (ECONNREFUSED ...) in its cause.
const causeText = (e: Error): string => {
  const c = (e as { cause?: unknown }).cause
  return c instanceof Error ? `${e.message} (${(c as { code?: string }).code ?? c.message})` : e.message
}

/** MLflow reads NaN and infinities as the strings protobuf's JSON mapping uses. */
const nonFinite = (_key: string, v: unknown) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v)

/** Metric and param keys: what MLflow accepts (letters, digits, `_ - . / space`), the rest as `_`. */
export const key = (k: string): string => (k.replace(/[^\w.\- /]/g, "_").slice(0, 250) || "_")

/** MLflow's limits on one log-batch request. */
export const LIMITS = { metrics: 1000, params: 100, tags: 100, total: 1000, paramValue: 6000, tagValue: 8000 } as const
