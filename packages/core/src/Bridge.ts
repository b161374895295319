/**
 * Where Effect and RxJS meet. The rest of tunekit stays in one world or the other.
 *
 * @since 0.1.0
 */
import { Effect, Stream } from "effect"
import { isObservable, Observable } from "rxjs"

export { isObservable }

/**
 * An Observable as an Effect Stream. Ending the stream early (a pruned trial, an interruption)
 * unsubscribes from the Observable, which is how a trainer is told to stop.
 *
 * @example
 * import { Bridge } from "@tunekit/core"
 * import { Effect, Stream } from "effect"
 * import { of } from "rxjs"
 * const xs = Effect.runSync(Stream.runCollect(Bridge.fromObservable(of(1, 2, 3))))
 */
export const fromObservable = <A>(source: Observable<A>): Stream.Stream<A, unknown> =>
  Stream.async<A, unknown>((emit) => {
    const subscription = source.subscribe({
      next: (a) => void emit.single(a),
      error: (e) => void emit.fail(e),
      complete: () => void emit.end()
    })
    return Effect.sync(() => subscription.unsubscribe())
  }, "unbounded")

/**
 * An Effect as an Observable of its one value: subscribing runs it, unsubscribing interrupts it.
 *
 * @example
 * import { Bridge } from "@tunekit/core"
 * import { Effect } from "effect"
 * Bridge.toObservable(Effect.succeed(1)).subscribe(console.log)
 */
export const toObservable = <A, E>(effect: Effect.Effect<A, E>): Observable<A> =>
  new Observable<A>((subscriber) => {
    const controller = new AbortController()
    Effect.runPromise(Effect.either(effect), { signal: controller.signal }).then(
      (r) => {
        if (r._tag === "Right") {
          subscriber.next(r.right)
          subscriber.complete()
        } else subscriber.error(r.left)
      },
      (e) => subscriber.error(e)
    )
    return () => controller.abort()
  })
