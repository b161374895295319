/**
 * Where Effect and RxJS meet. The rest of tunekit stays in one world or the other.
 *
 * Effects run on a `Runtime` (the caller's, so that its services, logging and interruption carry
 * over) and run synchronously as far as they can: an Effect that never waits completes inside the
 * `next` call that started it. That is what lets a scheduler decide on a metric before a
 * synchronous trainer produces the next one.
 *
 * @since 0.1.0
 */
import { Cause, Effect, Exit, FiberId, Option, Runtime, Scheduler } from "effect"
import { concatMap, isObservable, Observable, type OperatorFunction } from "rxjs"

export { isObservable }

/**
 * An Effect as an Observable of its one value: subscribing runs it on the runtime (synchronously
 * when it never waits), unsubscribing interrupts it. A failure errors the Observable with the
 * error itself (a defect with the thrown value).
 *
 * @example
 * import { Bridge } from "@tunekit/core"
 * import { Effect } from "effect"
 * Bridge.toObservable(Effect.succeed(1)).subscribe(console.log) // logs 1 before subscribe returns
 */
export const toObservable = <A, E, R = never>(
  effect: Effect.Effect<A, E, R>,
  runtime: Runtime.Runtime<R> = Runtime.defaultRuntime as Runtime.Runtime<R>
): Observable<A> =>
  new Observable<A>((subscriber) => {
    // The scheduler Effect's own `runSync` uses: tasks queued while it is flushed run now; once
    // flushed, later ones (after a real wait) go to the default scheduler.
    const scheduler = new Scheduler.SyncScheduler()
    const fiber = Runtime.runFork(runtime)(effect, { scheduler })
    fiber.addObserver(
      Exit.match({
        onSuccess: (a) => {
          subscriber.next(a)
          subscriber.complete()
        },
        // After an unsubscription the subscriber is closed and ignores this.
        onFailure: (cause) => subscriber.error(Cause.squash(cause))
      })
    )
    scheduler.flush()
    return () => {
      if (fiber.unsafePoll() === null) fiber.unsafeInterruptAsFork(FiberId.none)
    }
  })

/**
 * Runs an Effect for each value, one at a time and in order, and emits its results. A value
 * whose Effect never waits is handled before the source produces the next one; values that
 * arrive while an Effect waits are queued. Unsubscribing interrupts the Effect in flight.
 *
 * @example
 * import { Bridge } from "@tunekit/core"
 * import { Effect } from "effect"
 * import { range } from "rxjs"
 * range(1, 3).pipe(Bridge.mapEffect((n) => Effect.succeed(n * 2))).subscribe(console.log) // 2, 4, 6
 */
export const mapEffect = <A, B, E, R = never>(
  f: (a: A) => Effect.Effect<B, E, R>,
  runtime?: Runtime.Runtime<R>
): OperatorFunction<A, B> => concatMap((a: A) => toObservable(f(a), runtime))

/**
 * Subscribes to an Observable and succeeds with its last value (None when it completes empty),
 * or fails with its error. Interrupting the Effect unsubscribes, which stops the source.
 *
 * @example
 * import { Bridge } from "@tunekit/core"
 * import { Effect } from "effect"
 * import { of } from "rxjs"
 * const last = await Effect.runPromise(Bridge.lastValue(of(1, 2, 3))) // Option.some(3)
 */
export const lastValue = <A>(source: Observable<A>): Effect.Effect<Option.Option<A>, unknown> =>
  Effect.async<Option.Option<A>, unknown>((resume) => {
    let last = Option.none<A>()
    const subscription = source.subscribe({
      next: (a) => void (last = Option.some(a)),
      error: (e) => resume(Effect.fail(e)),
      complete: () => resume(Effect.succeed(last))
    })
    return Effect.sync(() => subscription.unsubscribe())
  })
