// The studies as the dashboard follows them. Each study's trials are read whole once, then only
// the trials changed since the last change counter (`Storage.changedTrials`); a poll reads the
// studies that have live pages open, and each read that found changes is published once, as the
// text of one server-sent event that carries the changed trials' rows and the study's summary.
import { type Storage, type StorageError, type StudyNotFound, Trial } from "@tunekit/core"
import { Effect, PubSub, Schedule, type Scope, Stream } from "effect"
import { type Row, rowOf, type Summary, summaryOf } from "./rows.js"

/** A published change: the counter it brings readers to, and the trials that changed, in order. */
export interface Update {
  readonly seq: number
  readonly summary: Summary
  readonly trials: ReadonlyArray<Trial.FrozenTrial>
  /** Its server-sent event's data with every trial, made for the first page that wants it. */
  full?: string
}

/** Which changed trials a page wants: all (the table), the latest few (the study page), or one (a trial's page). */
export interface Want {
  readonly latest?: number
  readonly trial?: number
}

/** A followed study: its trials as last read. */
export interface Followed {
  info: Storage.StudyInfo
  /** The change counter of the last read. */
  seq: number
  readonly byId: Map<number, Trial.FrozenTrial>
  /** The counter of the read that last brought each trial (for a page that catches up). */
  readonly changedAt: Map<number, number>
  readonly rows: Map<number, Row>
  sorted: ReadonlyArray<Trial.FrozenTrial> | undefined
  summary: Summary | undefined
  /** Derived data by key (plot options), each with the counter it was computed at. */
  readonly derived: Map<string, { readonly seq: number; readonly value: unknown }>
  readonly pubsub: PubSub.PubSub<Update>
  subscribers: number
  /** When it was last read (ms). */
  readAt: number
  readonly lock: Effect.Semaphore
}

export interface Feed {
  readonly storage: Storage.StorageService
  /** A study, read again when its last read is older than the poll interval. */
  readonly study: (name: string) => Effect.Effect<Followed, StorageError | StudyNotFound>
  /** Every study's summary. */
  readonly studies: Effect.Effect<ReadonlyArray<Summary>, StorageError>
  /** The server-sent events of a study: its changes after `since` (or a hello), then each update. */
  readonly events: (f: Followed, since: number | undefined, want?: Want) => Stream.Stream<Uint8Array>
  /** Reads a study's changes now (after a write of the dashboard's own). */
  readonly refresh: (f: Followed) => Effect.Effect<void, StorageError>
}

/** A study's trials in order of number. */
export const trialsOf = (f: Followed): ReadonlyArray<Trial.FrozenTrial> =>
  (f.sorted ??= [...f.byId.values()].sort((a, b) => a.number - b.number))

/** A study's summary (from its trials as read: no sort needed). */
export const summary = (f: Followed): Summary => (f.summary ??= summaryOf(f.info, f.byId.values(), f.seq))

export const rowsOf = (f: Followed, trials: Iterable<Trial.FrozenTrial>): Array<Row> => {
  const out: Array<Row> = []
  for (const t of trials) {
    let r = f.rows.get(t.id)
    if (r === undefined) f.rows.set(t.id, (r = rowOf(t)))
    out.push(r)
  }
  return out
}

/** Data derived from a study's trials, computed again only after they changed. */
export const derive = <A>(f: Followed, key: string, compute: () => A): A => {
  const hit = f.derived.get(key)
  if (hit !== undefined && hit.seq === f.seq) return hit.value as A
  const value = compute()
  f.derived.set(key, { seq: f.seq, value })
  return value
}

const encoder = new TextEncoder()

const event = (name: string, seq: number, data: string) => encoder.encode(`event: ${name}\nid: ${seq}\ndata: ${data}\n\n`)

/** An event's data: the counter, the study's summary, how many trials changed and the rows wanted. */
const payload = (f: Followed, seq: number, s: Summary, trials: ReadonlyArray<Trial.FrozenTrial>, want: Want = {}) => {
  const rows = want.trial !== undefined ? trials.filter((t) => t.id === want.trial) : want.latest !== undefined ? trials.slice(Math.max(0, trials.length - want.latest)) : trials
  return JSON.stringify({ seq, summary: s, changed: trials.length, trials: rowsOf(f, rows) })
}

const wantsAll = (w: Want) => w.latest === undefined && w.trial === undefined

/**
 * Without `changedTrials`, a backend is read whole and compared: a finished trial never changes,
 * so only the unfinished ones are compared field by field.
 */
const diffed = (storage: Storage.StorageService, f: Followed): Effect.Effect<Storage.Changes, StorageError> =>
  Effect.map(storage.getTrials(f.info.id), (all) => {
    const trials = all.filter((t) => {
      const old = f.byId.get(t.id)
      return old === undefined || (old !== t && !Trial.isFinished(old.state) && JSON.stringify(old) !== JSON.stringify(t))
    })
    return { seq: trials.length === 0 ? f.seq : f.seq + 1, trials }
  })

/** Follows the studies of a storage; the poll runs in the scope. */
export const make = (storage: Storage.StorageService, options: { readonly pollMs: number }): Effect.Effect<Feed, never, Scope.Scope> =>
  Effect.gen(function*() {
    const followed = new Map<string, Followed>()
    const changes = (f: Followed) => (storage.changedTrials ? storage.changedTrials(f.info.id, f.seq) : diffed(storage, f))

    const read = (f: Followed): Effect.Effect<void, StorageError> =>
      Effect.flatMap(changes(f), (c) =>
        Effect.suspend(() => {
          f.readAt = Date.now()
          if (c.trials.length === 0) {
            f.seq = c.seq
            return Effect.void
          }
          for (const t of c.trials) {
            f.byId.set(t.id, t)
            f.changedAt.set(t.id, c.seq)
            f.rows.delete(t.id)
          }
          f.seq = c.seq
          f.sorted = undefined
          f.summary = undefined
          return f.subscribers === 0 ? Effect.void : PubSub.publish(f.pubsub, { seq: f.seq, summary: summary(f), trials: c.trials })
        }))
    const refresh = (f: Followed) => f.lock.withPermits(1)(read(f))

    const follow = (info: Storage.StudyInfo) =>
      Effect.gen(function*() {
        const f: Followed = {
          info,
          seq: 0,
          byId: new Map(),
          changedAt: new Map(),
          rows: new Map(),
          sorted: undefined,
          summary: undefined,
          derived: new Map(),
          pubsub: yield* PubSub.unbounded<Update>(),
          subscribers: 0,
          readAt: 0,
          lock: yield* Effect.makeSemaphore(1)
        }
        followed.set(info.name, f)
        return f
      })

    // A study's description holds its notes and the tracker's status: read again with its trials.
    const fresh = (info: Storage.StudyInfo) =>
      Effect.gen(function*() {
        let f = followed.get(info.name)
        // Deleted and created again under the same name: another study.
        if (f === undefined || f.info.id !== info.id) f = yield* follow(info)
        else if (f.info !== info) {
          f.info = info
          f.summary = undefined
        }
        if (Date.now() - f.readAt >= options.pollMs) yield* refresh(f)
        return f
      })

    const study = (name: string) => Effect.flatMap(storage.getStudy(name), fresh)

    const studies = Effect.flatMap(storage.listStudies(), (infos) =>
      Effect.forEach(infos, (info) => Effect.map(fresh(info), summary)))

    const events = (f: Followed, since: number | undefined, want: Want = {}): Stream.Stream<Uint8Array> =>
      Stream.unwrapScoped(
        Effect.gen(function*() {
          const queue = yield* PubSub.subscribe(f.pubsub)
          f.subscribers++
          yield* Effect.addFinalizer(() => Effect.sync(() => void f.subscribers--))
          // What changed since the page's counter; a counter ahead of this study's is from
          // another study or database: the page reloads everything.
          const first = since !== undefined && since > f.seq
            ? event("reset", f.seq, JSON.stringify({ seq: f.seq }))
            : event(
              "hello",
              f.seq,
              payload(f, f.seq, summary(f), since === undefined ? [] : trialsOf(f).filter((t) => (f.changedAt.get(t.id) ?? 0) > since), want)
            )
          // Pages that want every changed trial share one text of each update.
          const text = (u: Update) => (wantsAll(want) ? (u.full ??= payload(f, u.seq, u.summary, u.trials)) : payload(f, u.seq, u.summary, u.trials, want))
          const updates = Stream.fromQueue(queue).pipe(Stream.map((u) => event("update", u.seq, text(u))))
          // A comment now and then: proxies keep the stream open, and a closed page is noticed.
          const pings = Stream.fromSchedule(Schedule.spaced("15 seconds")).pipe(Stream.map(() => encoder.encode(": ping\n\n")))
          return Stream.concat(Stream.make(first), Stream.merge(updates, pings))
        })
      )

    const pollAll = Effect.suspend(() =>
      Effect.forEach(
        [...followed.values()].filter((f) => f.subscribers > 0),
        (f) => Effect.catchAll(refresh(f), (e) => Effect.logWarning(`dashboard: reading study "${f.info.name}" failed: ${e.message}`)),
        { discard: true }
      )
    )
    yield* Effect.forkScoped(Effect.repeat(pollAll, Schedule.spaced(options.pollMs)))

    return { storage, study, studies, events, refresh } satisfies Feed
  })
