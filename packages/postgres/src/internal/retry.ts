// Which failures are the connection's (the server restarting, the network dropping) rather than
// the query's, and how long to keep trying: exponential backoff from 50 ms, at most 2 s apart,
// jittered so that many workers do not knock at once, within a total budget.
import { Duration, Effect, Schedule } from "effect"

// Connection refused/reset while the server is down; admin_shutdown, crash_shutdown and
// cannot_connect_now while it stops or starts; too_many_connections; SQLSTATE class 08
// (connection exception); serialization failure and deadlock (the transaction was rolled back).
const CODES = new Set([
  "ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENETDOWN", "EAI_AGAIN",
  "57P01", "57P02", "57P03", "53300", "08000", "08001", "08003", "08004", "08006", "40001", "40P01"
])
const MESSAGES = /Connection terminated|Client has encountered a connection error|not queryable|timeout exceeded when trying to connect|Client was closed and is not queryable|the database system is (starting up|shutting down|in recovery mode)/i

/** Whether a failure is worth retrying after reconnecting. */
export const isTransient = (e: unknown): boolean => {
  if (typeof e !== "object" || e === null) return false
  const code = (e as { code?: unknown }).code
  if (typeof code === "string" && CODES.has(code)) return true
  const message = (e as { message?: unknown }).message
  return typeof message === "string" && MESSAGES.test(message)
}

/** The backoff for transient failures, tried for at most `budgetMs` in all. */
export const backoff = (budgetMs: number): Schedule.Schedule<unknown> =>
  Schedule.exponential(Duration.millis(50)).pipe(
    Schedule.union(Schedule.spaced(Duration.seconds(2))),
    Schedule.jittered,
    Schedule.upTo(Duration.millis(budgetMs))
  )

/**
 * Runs a call, tried again on a fresh connection while the connection fails (within `budgetMs`);
 * fails with what the last try threw.
 */
export const retrying = <A>(body: () => Promise<A>, budgetMs: number): Effect.Effect<A, unknown> =>
  Effect.retry(Effect.tryPromise({ try: body, catch: (e) => e }), { schedule: backoff(budgetMs), while: isTransient })
