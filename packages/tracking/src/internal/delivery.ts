// Delivery to a server that may be down or slow, without slowing the study: events go into a
// bounded queue (offering never waits; a full queue drops the event and counts it) and one
// background fiber sends them in batches. A request is retried with exponential backoff (capped,
// jittered); when it still fails the circuit opens for a cooldown, during which requests fail at
// once instead of each waiting through its retries (the circuit-breaker pattern, Nygard 2007,
// "Release It!"), so that a dead server costs nothing and a recovered one is used again.
import { Cause, Duration, Effect, Exit, Fiber, Option } from "effect"
import { type Counter } from "./health.js"
import { MlflowError } from "./mlflowRest.js"

export interface RetryOptions {
  readonly retries: number
  readonly backoffMs: number
  readonly maxBackoffMs: number
  readonly cooldownMs: number
}

/** The request name of the open circuit's errors: they say nothing new about why requests fail. */
export const CIRCUIT = "circuit"

/**
 * Wraps requests with retries and the circuit breaker (`send`); counts retries and sent requests.
 * `isOpen` tells whether requests fail at once now. `outlasts(requests, concurrency, msLeft)` tells
 * whether waiting for `requests` more, `concurrency` at a time, is hopeless in `msLeft`: the last
 * attempt failed (a request may be waiting to try again) or the circuit is open, or they would take
 * longer at the server's pace, a request's time (its retries included) being the mean so far, or
 * the age of the oldest in flight when that is longer.
 */
export const retrying = (o: RetryOptions, health: Counter) => {
  let openUntil = 0
  let failing = false
  let finished = 0
  let totalMs = 0
  const inFlight = new Set<{ readonly start: number }>()
  // The delay before retry n (from 0): exponential from backoffMs, at most maxBackoffMs, within
  // ±20% at random (as Effect's Schedule.jittered), so that clients do not retry in step.
  const delay = (n: number) => Math.min(o.backoffMs * 2 ** n, o.maxBackoffMs) * (0.8 + 0.4 * Math.random())
  const send = <A>(request: Effect.Effect<A, MlflowError>): Effect.Effect<A, MlflowError> =>
    Effect.suspend(() => {
      if (Date.now() < openUntil) {
        return Effect.fail(
          new MlflowError({ request: CIRCUIT, reason: `the server failed recently; not trying again for ${openUntil - Date.now()} ms`, retriable: true })
        )
      }
      const flight = { start: Date.now() }
      inFlight.add(flight)
      // Retried by hand rather than by Effect.retry with a Schedule, whose driver cost each request
      // several effects more on the study's thread; a retry stops when the circuit opened meanwhile.
      const attempt = (n: number): Effect.Effect<A, MlflowError> =>
        Effect.matchEffect(request, {
          onSuccess: (a) => {
            failing = false
            health.sent++
            return Effect.succeed(a)
          },
          onFailure: (e) => {
            failing = e.retriable
            if (!e.retriable || n >= o.retries || Date.now() < openUntil) return Effect.fail(e)
            health.retried++
            return Effect.zipRight(Effect.sleep(Duration.millis(delay(n))), attempt(n + 1))
          }
        })
      return Effect.onExit(attempt(0), (exit) =>
        Effect.sync(() => {
          inFlight.delete(flight)
          finished++
          totalMs += Date.now() - flight.start
          // A server or network failure is remembered (what failed after it may only say "its run
          // could not be created"); an answer the caller may expect (an experiment that exists
          // already, a 4xx) is the caller's to count and remember.
          const e = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()
          if (Option.isSome(e) && e.value.retriable) {
            health.lastError = e.value.message
            openUntil = Date.now() + o.cooldownMs
          }
        }))
    })
  const latencyMs = () => {
    let oldest = 0
    for (const r of inFlight) oldest = Math.max(oldest, Date.now() - r.start)
    return Math.max(finished === 0 ? 0 : totalMs / finished, oldest)
  }
  const isOpen = () => Date.now() < openUntil
  const outlasts = (requests: number, concurrency: number, msLeft: number) => failing || isOpen() || requests * latencyMs() > msLeft * concurrency
  return { send, isOpen, outlasts }
}

export interface Worker<Op> {
  /**
   * Queues an op, at once (plain code, for the caller's `Effect.sync`: an event costs the study's
   * thread no effect of its own). A full queue (or a closed worker) drops it, counted unless
   * `counted` is false (not an event).
   */
  readonly offer: (op: Op, counted?: boolean) => void
  /**
   * Waits until every queued op is handled, at most `ms`; true when it was. With `giveUp`, it stops
   * waiting as soon as that says waiting is hopeless, given the time left (a server that is down or
   * slower than the study: waiting would only cost).
   */
  readonly drain: (ms: number, giveUp?: (msLeft: number) => boolean) => Effect.Effect<boolean>
  /** Stops the fiber; the ops left unhandled are counted as dropped. */
  readonly stop: Effect.Effect<void>
}

/**
 * A queue and the fiber that hands its ops, in order and in batches, to `handle`, which calls
 * `done(n)` as it finishes ops (so that stopping midway counts only the unhandled ones).
 *
 * Having taken an op, the fiber lingers `lingerMs` for more before handling them (cut short when
 * the queue is half full or someone drains it): a study whose event loop turns between its events
 * would otherwise wake it for every event, and each batch costs the study's thread some effects
 * whatever its size.
 *
 * The queue is a plain array that the study's fiber appends to (an Effect `Queue` took several
 * effects an offer, on the study's thread, for every event); the fiber is woken only when it
 * waits for the first op of a batch.
 */
export const worker = <Op>(
  capacity: number,
  health: Counter,
  handle: (ops: ReadonlyArray<Op>, done: (n: number) => void) => Effect.Effect<void>,
  lingerMs = 0
): Effect.Effect<Worker<Op>> =>
  Effect.gen(function*() {
    let queue: Array<Op> = []
    let busy = 0
    let closed = false
    const finished = (n: number) => void (busy -= Math.min(n, busy))
    // The fiber waiting for an op, and lingering for more: what resumes it.
    let arrived: (() => void) | undefined
    let wake: (() => void) | undefined
    const arrival = Effect.async<void>((resume) => {
      arrived = () => {
        arrived = undefined
        resume(Effect.void)
      }
      return Effect.sync(() => void (arrived = undefined))
    })
    const linger = Effect.async<void>((resume) => {
      const timer = setTimeout(() => wake?.(), lingerMs)
      wake = () => {
        wake = undefined
        clearTimeout(timer)
        resume(Effect.void)
      }
      return Effect.sync(() => {
        wake = undefined
        clearTimeout(timer)
      })
    })
    // The ops stay queued while it lingers: not idle, and dropped if stopped. It lingers also when
    // ops came while it handled the last batch, so that batches stay whole.
    const take = Effect.zipRight(
      Effect.zipRight(
        Effect.suspend(() => (queue.length > 0 ? Effect.void : arrival)),
        Effect.suspend(() => (lingerMs <= 0 || queue.length >= capacity / 2 ? Effect.void : linger))
      ),
      Effect.sync(() => {
        const ops = queue
        queue = []
        busy = ops.length
        return ops
      })
    )
    const loop = Effect.forever(
      Effect.flatMap(take, (ops) =>
        handle(ops, finished).pipe(
          // A defect (a bug, an answer of an unexpected shape) loses the batch in hand, counted,
          // and not the worker: the next ops are still sent.
          Effect.catchAllDefect((d) =>
            Effect.sync(() => {
              health.failed += busy
              health.lastError = `tracker defect: ${d instanceof Error ? d.message : String(d)}`
            })
          ),
          Effect.ensuring(Effect.sync(() => void (busy = 0)))
        ))
    )
    // Interruptible even when made in a layer's (uninterruptible) acquisition, so that stop can end it.
    const fiber = yield* Effect.forkDaemon(Effect.interruptible(loop))
    const idle = () => queue.length === 0 && busy === 0
    return {
      offer: (op, counted = true) => {
        if (closed || queue.length >= capacity) return void (counted && health.dropped++)
        queue.push(op)
        if (arrived !== undefined) arrived()
        else if (wake !== undefined && queue.length >= capacity / 2) wake()
      },
      drain: (ms, giveUp) =>
        Effect.gen(function*() {
          const until = Date.now() + ms
          // Someone waits for the ops: no more lingering for others.
          wake?.()
          while (!idle()) {
            wake?.()
            const now = Date.now()
            if (now >= until) return false
            if (giveUp?.(until - now)) return false
            yield* Effect.sleep(Duration.millis(5))
          }
          return true
        }),
      stop: Effect.gen(function*() {
        closed = true
        const left = queue.length + busy
        queue = []
        yield* Fiber.interrupt(fiber)
        health.dropped += left
      })
    }
  })
