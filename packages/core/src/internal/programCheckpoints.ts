// Checkpoints of external programs (Process.trainer) through the study's Checkpoint service, so
// that retention, integrity (checksums) and the shared stores (PostgreSQL, a shared folder) apply
// to them as to any trainer's.
//
// The contract for the program is a folder, as Ray Tune's `Checkpoint.from_directory`: it writes
// its state into TUNEKIT_CHECKPOINT_DIR, then reports the step. Before the metric goes on to the
// scheduler (save, then report), the folder is saved as that step's checkpoint, one archive of its
// files, when it changed since the last save (a program that checkpoints every 5 epochs and
// reports every epoch gives a checkpoint every 5 steps, each under the step it was written at).
// A trial that continues earlier training (a resumed pause, a PBT exploit) gets the checkpoint it
// starts from unpacked into a fresh folder, TUNEKIT_RESTORE_DIR, and copied into its
// TUNEKIT_CHECKPOINT_DIR; TUNEKIT_RESUME_FROM is the step it holds. Both folders are scratch space,
// removed when the run ends: what is kept is in the store.
//
// The executor hands the Checkpoint service over with the trial (`attach`); without one, a program
// keeps its checkpoints in its own folder as before, outside retention.
import { Effect } from "effect"
import * as crypto from "node:crypto"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { Observable } from "rxjs"
import { CheckpointError, type CheckpointService, type Data, type Key, loadRestorePoint, type RestorePoint } from "../Checkpoint.js"

/** The first line of a folder checkpoint; a JSON line listing the files and their sizes follows, then their bytes. */
const MAGIC = "tunekit-folder 1\n"

const services = new WeakMap<object, CheckpointService>()

/** Hands the study's Checkpoint service over with a trial, for a program trainer (`Process`). */
export const attach = <T extends object>(trial: T, service: CheckpointService): T => {
  services.set(trial, service)
  return trial
}

/** The service handed over with a trial, also through objects made from it (`Object.create(trial)`). */
export const serviceOf = (trial: object): CheckpointService | undefined => {
  for (let o: object | null = trial; o !== null; o = Object.getPrototypeOf(o) as object | null) {
    const s = services.get(o)
    if (s !== undefined) return s
  }
  return undefined
}

/** The regular files under a folder, by path relative to it (with "/"), sorted. */
const filesOf = async (root: string): Promise<Array<string>> => {
  const out: Array<string> = []
  const walk = async (rel: string) => {
    for (const d of await fs.readdir(path.join(root, rel), { withFileTypes: true })) {
      const r = rel === "" ? d.name : `${rel}/${d.name}`
      if (d.isDirectory()) await walk(r)
      else if (d.isFile()) out.push(r)
    }
  }
  await walk("")
  return out.sort()
}

/** What the folder holds, by name, size and time of change: unchanged, there is nothing new to save. */
const fingerprint = async (root: string): Promise<string> => {
  const parts: Array<string> = []
  for (const f of await filesOf(root)) {
    const s = await fs.stat(path.join(root, f), { bigint: true })
    parts.push(`${f}\u0000${s.size}\u0000${s.mtimeNs}`)
  }
  return parts.join("\n")
}

/** The folder's files as one checkpoint: MAGIC, a JSON line of `[path, bytes]`, then the bytes. */
export const pack = async (root: string): Promise<Uint8Array> => {
  const names = await filesOf(root)
  const contents = await Promise.all(names.map((f) => fs.readFile(path.join(root, f))))
  const header = new TextEncoder().encode(`${MAGIC}${JSON.stringify(names.map((f, i) => [f, contents[i].length]))}\n`)
  const out = new Uint8Array(header.length + contents.reduce((n, c) => n + c.length, 0))
  out.set(header)
  let at = header.length
  for (const c of contents) {
    out.set(c, at)
    at += c.length
  }
  return out
}

/** Writes a folder checkpoint's files under `root`; throws an Error naming what is wrong with one that is not. */
export const unpack = async (data: Data, root: string): Promise<void> => {
  if (!(data instanceof Uint8Array)) throw new Error("it is JSON, not a program's folder (was it saved by another trainer?)")
  const magic = new TextEncoder().encode(MAGIC)
  if (data.length < magic.length || magic.some((b, i) => data[i] !== b)) throw new Error("it is not a program's folder (was it saved by another trainer?)")
  const nl = data.indexOf(10, magic.length)
  const files = JSON.parse(new TextDecoder().decode(data.subarray(magic.length, nl))) as Array<[string, number]>
  let at = nl + 1
  await fs.mkdir(root, { recursive: true })
  for (const [name, bytes] of files) {
    // A stored name never leaves the folder (the checkpoint may come from a shared store).
    const file = path.resolve(root, name)
    if (path.isAbsolute(name) || !file.startsWith(path.resolve(root) + path.sep)) throw new Error(`it names a file outside its folder: ${name}`)
    await fs.mkdir(path.dirname(file), { recursive: true })
    await fs.writeFile(file, data.subarray(at, at + bytes))
    at += bytes
  }
  if (at !== data.length) throw new Error(`its files hold ${at} bytes of ${data.length}`)
}

/** A program's run with its checkpoints in the service: its folders, and the save at each report. */
export interface Managed {
  /** TUNEKIT_CHECKPOINT_DIR, and for a continuation TUNEKIT_RESTORE_DIR and TUNEKIT_RESUME_FROM. */
  readonly vars: Readonly<Record<string, string>>
  /** Saves the folder as the step's checkpoint if it changed; call before the metric goes on. */
  readonly reported: (step: number) => Promise<void>
}

interface TrialInfo {
  readonly study?: string | undefined
  readonly number: number
  readonly restoreFrom?: RestorePoint | undefined
}

const run = <A, E>(e: Effect.Effect<A, E>): Promise<A> => Effect.runPromise(Effect.mapError(e, (x) => x as unknown as Error))

/**
 * Where a trial resumes its own paused training from: a program saves only when its folder changed
 * (every 5 epochs, say, while it reports every epoch), so its pause at step 7 resumes from its
 * latest checkpoint at or before 7 (retention keeps that one for a paused trial). Another trial's
 * point (an exploit) is left as chosen.
 */
const ownPoint = async (service: CheckpointService, key: Key, point: RestorePoint): Promise<RestorePoint> => {
  if (point.trial !== key.trial) return point
  const steps = await run(service.steps(key))
  const atOrBefore = steps.filter((s) => s <= point.step)
  return atOrBefore.length === 0 ? point : { trial: point.trial, step: Math.max(...atOrBefore) }
}

/**
 * Runs `body` with the trial's checkpoints in the service handed over with it, if any: restores the
 * checkpoint it starts from into fresh folders first, saves the folder at each report (through
 * `Managed.reported`), and removes the folders when the run ends. Without a service, `body(undefined)`.
 * The folders go where Process's `checkpoints` option says (default `.tunekit/checkpoints`), under the study.
 */
export const around = <T>(trial: TrialInfo & object, checkpoints: string | undefined, body: (managed: Managed | undefined) => Observable<T>): Observable<T> => {
  const service = serviceOf(trial)
  if (service === undefined) return body(undefined)
  const key: Key = { study: trial.study ?? "study", trial: trial.number }
  const base = path.resolve(checkpoints ?? ".tunekit/checkpoints", encodeURIComponent(key.study))
  return new Observable<T>((subscriber) => {
    // Folders of this run alone: a paused trial resumed at once must not lose its new folder to the
    // old run's clean-up. Not `trial-<n>`, which the files store uses, maybe in this very folder.
    const tag = `${process.pid}-${crypto.randomBytes(4).toString("hex")}`
    const work = path.join(base, `trial-${trial.number}.work-${tag}`)
    const restore = path.join(base, `trial-${trial.number}.restore-${tag}`)
    let saving: Promise<void> = Promise.resolve()
    let closed = false
    let inner: { unsubscribe: () => void } | undefined
    const open = async (): Promise<Managed> => {
      await fs.rm(work, { recursive: true, force: true })
      await fs.rm(restore, { recursive: true, force: true })
      await fs.mkdir(work, { recursive: true })
      const vars: Record<string, string> = { TUNEKIT_CHECKPOINT_DIR: work }
      if (trial.restoreFrom !== undefined) {
        const start = await run(loadRestorePoint(service, key.study, key.trial, await ownPoint(service, key, trial.restoreFrom)))
        try {
          await unpack(start.data, restore)
          await unpack(start.data, work)
        } catch (e) {
          const from = { study: key.study, trial: trial.restoreFrom.trial }
          throw new CheckpointError({ operation: "restore", key: from, step: start.step, reason: `${(e as Error).message}; it was not restored` })
        }
        Object.assign(vars, { TUNEKIT_RESTORE_DIR: restore, TUNEKIT_RESUME_FROM: String(start.step) })
      }
      let last = await fingerprint(work)
      return {
        vars,
        reported: (step) =>
          (saving = saving.then(async () => {
            const now = await fingerprint(work)
            if (now === last || now === "") return
            await run(service.save(key, step, await pack(work)))
            last = now
          }))
      }
    }
    open().then(
      (managed) => {
        if (closed) {
          // Stopped while its checkpoint was restored: the teardown's clean-up ran before the folders were made.
          void Promise.all([fs.rm(work, { recursive: true, force: true }), fs.rm(restore, { recursive: true, force: true })]).catch(() => undefined)
          return
        }
        inner = body(managed).subscribe(subscriber)
      },
      (e) => subscriber.error(e)
    )
    return () => {
      closed = true
      inner?.unsubscribe()
      // After the saves under way: they read the folder.
      void saving.catch(() => undefined).then(() =>
        Promise.all([fs.rm(work, { recursive: true, force: true }), fs.rm(restore, { recursive: true, force: true })])
      ).catch(() => undefined)
    }
  })
}
