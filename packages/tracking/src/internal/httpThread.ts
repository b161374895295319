// HTTP exchanges on a worker thread of their own, so that the study's thread does not pay for
// them. On the study's thread a request over node:http (kept-alive connections) cost about
// 130 us of CPU warm and several times that between a study's steps, whose own work leaves the
// caches cold: building the request, writing the socket, parsing the answer, the stream events
// around it. A message to the thread and its answer cost a fraction of that. One thread serves
// every tracker and client of the process; it is made at the first request, and keeps the process
// alive only while a request waits for its answer.
import { Effect } from "effect"
import { Worker } from "node:worker_threads"

/** Where a request goes: the parts of a server's URL, parsed once. */
export interface Target {
  readonly protocol: "http:" | "https:"
  readonly hostname: string
  readonly port: string
  /** The URL's path, without a trailing slash: the requests' paths follow it. */
  readonly base: string
}

/**
 * A server's URL as a target.
 *
 * @example
 * target("http://127.0.0.1:5000/") // { protocol: "http:", hostname: "127.0.0.1", port: "5000", base: "" }
 */
export const target = (url: string): Target => {
  const u = new URL(url)
  return {
    protocol: u.protocol === "https:" ? "https:" : "http:",
    hostname: u.hostname.replace(/^\[|\]$/g, ""),
    port: u.port,
    base: u.pathname.replace(/\/+$/, "")
  }
}

// The thread's code: plain JavaScript (an eval'd worker runs as CommonJS), so that it runs the same
// from the sources (tests) and the build. Each message is a request, or the cancelling of one.
const THREAD = `
const { parentPort } = require("node:worker_threads")
const http = require("node:http")
const https = require("node:https")
const agents = { "http:": new http.Agent({ keepAlive: true }), "https:": new https.Agent({ keepAlive: true }) }
const live = new Map()
const failure = (e) => ({ name: e.name, message: e.message, code: e.code })
parentPort.on("message", (m) => {
  if (m.cancel !== undefined) {
    const req = live.get(m.cancel)
    live.delete(m.cancel)
    if (req !== undefined) req.destroy()
    return
  }
  let done = false
  const finish = (answer) => {
    if (done) return
    done = true
    clearTimeout(timer)
    live.delete(m.id)
    parentPort.postMessage(answer)
  }
  const req = (m.protocol === "https:" ? https : http).request(
    { hostname: m.hostname, port: m.port, path: m.path, method: m.method, headers: m.headers, agent: agents[m.protocol] },
    (res) => {
      const chunks = []
      res.on("data", (c) => chunks.push(c))
      res.on("end", () => finish({ id: m.id, status: res.statusCode || 0, text: Buffer.concat(chunks).toString("utf8") }))
      res.on("error", (e) => finish({ id: m.id, error: failure(e) }))
    }
  )
  const timer = setTimeout(() => req.destroy(Object.assign(new Error("no answer within " + m.timeoutMs + " ms"), { name: "TimeoutError" })), m.timeoutMs)
  req.on("error", (e) => finish({ id: m.id, error: failure(e) }))
  live.set(m.id, req)
  req.end(m.body)
})
`

type Answer =
  | { readonly id: number; readonly status: number; readonly text: string; readonly error?: undefined }
  | { readonly id: number; readonly error: { readonly name: string; readonly message: string; readonly code?: string } }

let thread: Worker | undefined
let serial = 0
const waiting = new Map<number, (a: Answer) => void>()

const settle = (a: Answer) => {
  const k = waiting.get(a.id)
  if (k === undefined) return
  waiting.delete(a.id)
  if (waiting.size === 0) thread?.unref()
  k(a)
}

const threadOf = (): Worker => {
  if (thread !== undefined) return thread
  // Without the process's flags: its loaders are not needed, and --input-type=module would make
  // the code an ES module, without require.
  const t = new Worker(THREAD, { eval: true, execArgv: [] })
  t.on("message", settle)
  // The thread died (it should not): what waits fails, and the next request makes a new thread.
  const lost = (e: unknown) => {
    if (thread === t) thread = undefined
    const reason = { name: "Error", message: `the HTTP thread ended: ${e instanceof Error ? e.message : String(e)}` }
    for (const id of [...waiting.keys()]) settle({ id, error: reason })
  }
  t.on("error", lost)
  t.on("exit", (code) => lost(`exit code ${code}`))
  // After the listeners: a "message" listener added later would hold the process again.
  t.unref()
  return (thread = t)
}

/**
 * One HTTP exchange on the thread, the answer included within `timeoutMs`: the status and the
 * answer's text, or the error (with its `code`, e.g. ECONNREFUSED; `TimeoutError` by name).
 * Interrupting it cancels the request.
 *
 * @example
 * import { Effect } from "effect"
 * const health = exchange(target("http://127.0.0.1:5000"), "GET", "/health", {}, undefined, 1000)
 */
export const exchange = (
  to: Target,
  method: string,
  path: string,
  headers: Readonly<Record<string, string>>,
  body: string | Uint8Array | undefined,
  timeoutMs: number
): Effect.Effect<{ readonly status: number; readonly text: string }, Error> =>
  Effect.async((resume) => {
    const t = threadOf()
    const id = serial++
    if (waiting.size === 0) t.ref()
    waiting.set(id, (a) =>
      resume(
        a.error === undefined
          ? Effect.succeed(a)
          : Effect.fail(Object.assign(new Error(a.error.message), { name: a.error.name, ...(a.error.code === undefined ? {} : { code: a.error.code }) }))
      ))
    t.postMessage({ id, protocol: to.protocol, hostname: to.hostname, port: to.port, path: to.base + path, method, headers, body, timeoutMs })
    return Effect.sync(() => {
      if (!waiting.delete(id)) return
      if (waiting.size === 0) t.unref()
      t.postMessage({ cancel: id })
    })
  })
