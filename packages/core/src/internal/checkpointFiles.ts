// The files store of the Checkpoint service: `<directory>/<study>/trial-<n>/step-<step>.ckpt`.
//
// Integrity: a file is a header line, `tunekit-checkpoint 1 <json|bytes> <sha256 hex> <length>\n`,
// then the data. It is written under a temporary name and renamed, so a reader sees the old file or
// the new one, never half of one; the header's length and checksum catch what happens to a file
// after that (a disk or a copy that cuts or changes it). `step-<step>.json` and `.bin` files were
// written before checksums existed: they load as before, unchecked.
//
// Deletion under a loader: a load hard-links the file to a lease name of its own, reads the
// lease, then unlinks it. A concurrent delete (in any process, also over NFS) only unlinks the
// checkpoint's own name: the data stays on disk until the lease goes, so a load that has its lease
// always reads the whole file. Retention sees the leases in `list` and keeps those checkpoints.
import { Effect } from "effect"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { isAlive } from "./processes.js"
import {
  CheckpointCorrupt,
  CheckpointError,
  CheckpointNotFound,
  type CheckpointService,
  type Data,
  digest,
  type Entry,
  fromBytes,
  guard,
  type Key,
  removes,
  toBytes
} from "../Checkpoint.js"

/** Hooks for tests: `afterLease` runs between taking a load's lease and reading it (a slow loader). */
export interface FilesHooks {
  readonly afterLease?: (lease: string) => Promise<void>
}

const CKPT = "ckpt"
const NAME = /^step-(.+)\.(ckpt|json|bin)$/
const LEASE = /^(step-.+\.(?:ckpt|json|bin))\.lease-(.+)$/
const TMP = /^step-.+\.tmp-(.+)$/
const HEADER = /^tunekit-checkpoint 1 (json|bytes) ([0-9a-f]{64}) (\d+)$/
/** A lease or temporary file older than this is left over from a process that died. */
const STALE_MS = 60 * 60_000
/** Tries of a save whose trial folder a concurrent delete removed meanwhile. */
const SAVE_TRIES = 3

// One directory per study: its name URI-encoded, so that any name is a safe path ("." and ".."
// have their dots encoded too, or they would name this directory and its parent).
const studyDir = (study: string) => (study === "." || study === ".." ? study.replace(/\./g, "%2E") : encodeURIComponent(study))

const host = os.hostname().replace(/[^A-Za-z0-9.]/g, "_")
/** A name unique to this call: host, process, time and a random part (a lease or temporary file's suffix). */
const ownerTag = () => `${host}-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 10)}`


/** Whether a lease or temporary file's owner is gone: a dead process of this host, or older than STALE_MS. */
const isStale = (tag: string, now: number): boolean => {
  const m = /^(.+)-(\d+)-(\d+)-[a-z0-9]+$/.exec(tag)
  if (m === null) return true
  const [, h, pid, at] = m
  return (h === host && Number(pid) !== process.pid && !isAlive(Number(pid))) || now - Number(at) > STALE_MS
}

const code = (e: unknown) => (e as NodeJS.ErrnoException | undefined)?.code

/** What a trial's folder holds: the file of each step (a .ckpt before a legacy one), the live leases, the leftovers. */
interface Folder {
  readonly files: Map<number, ReadonlyArray<string>>
  readonly leased: Set<string>
  readonly leftovers: ReadonlyArray<string>
}

const readFolder = async (dir: string): Promise<Folder> => {
  let names: Array<string>
  try {
    names = await fs.readdir(dir)
  } catch (e) {
    if (code(e) === "ENOENT" || code(e) === "ENOTDIR") return { files: new Map(), leased: new Set(), leftovers: [] }
    throw e
  }
  const now = Date.now()
  const files = new Map<number, Array<string>>()
  const leased = new Set<string>()
  const leftovers: Array<string> = []
  for (const n of names) {
    const lease = LEASE.exec(n)
    if (lease !== null) {
      if (isStale(lease[2], now)) leftovers.push(n)
      else leased.add(lease[1])
      continue
    }
    const tmp = TMP.exec(n)
    if (tmp !== null) {
      if (isStale(tmp[1], now)) leftovers.push(n)
      continue
    }
    const m = NAME.exec(n)
    if (m === null) continue
    const s = Number(m[1])
    if (!Number.isFinite(s)) continue
    const all = files.get(s) ?? []
    // The checksummed file first: it is the newer one when both exist.
    if (m[2] === CKPT) all.unshift(n)
    else all.push(n)
    files.set(s, all)
  }
  return { files, leased, leftovers }
}

/** The header line and data of a checkpoint file. */
const encodeFile = (data: Data): Uint8Array => {
  const { bytes, json } = toBytes(data)
  const header = new TextEncoder().encode(`tunekit-checkpoint 1 ${json ? "json" : "bytes"} ${digest(bytes)} ${bytes.length}\n`)
  const out = new Uint8Array(header.length + bytes.length)
  out.set(header)
  out.set(bytes, header.length)
  return out
}

/** Reads back a checkpoint file's data, or says what is wrong with it. */
const decodeFile = (name: string, buf: Uint8Array): { readonly data: Data } | { readonly corrupt: string } => {
  const kind = NAME.exec(name)![2]
  try {
    if (kind === "bin") return { data: new Uint8Array(buf) }
    if (kind === "json") return { data: fromBytes({ json: true, bytes: buf }) }
  } catch (e) {
    return { corrupt: `it is not JSON (${(e as Error).message})` }
  }
  const nl = buf.indexOf(10)
  if (nl < 0 || nl > 200) return { corrupt: buf.length === 0 ? "the file is empty" : "its header line is missing or cut short" }
  const header = HEADER.exec(new TextDecoder("latin1").decode(buf.subarray(0, nl)))
  if (header === null) return { corrupt: "its header line is damaged" }
  const [, type, sha, length] = header
  const bytes = buf.subarray(nl + 1)
  if (bytes.length !== Number(length)) {
    return { corrupt: bytes.length < Number(length) ? `it holds ${bytes.length} of its ${length} bytes (cut short)` : `it holds ${bytes.length} bytes, not ${length}` }
  }
  if (digest(bytes) !== sha) return { corrupt: "its SHA-256 does not match its contents (changed bytes)" }
  try {
    return { data: fromBytes({ json: type === "json", bytes: new Uint8Array(bytes) }) }
  } catch (e) {
    return { corrupt: `its JSON does not parse (${(e as Error).message})` }
  }
}

/** The files store (see Checkpoint.makeFiles), with hooks for tests. */
export const makeFilesWith = (directory: string, hooks: FilesHooks = {}): CheckpointService => {
  const dirOf = (key: Key) => path.join(directory, studyDir(key.study), `trial-${key.trial}`)
  const fail = (operation: string, key: Key, step: number | undefined) => (e: unknown) =>
    new CheckpointError({ operation, key, step, reason: e instanceof Error ? e.message : String(e) })

  const folder = (operation: string, key: Key) => Effect.tryPromise({ try: () => readFolder(dirOf(key)), catch: fail(operation, key, undefined) })

  const write = async (key: Key, step: number, data: Data) => {
    const contents = encodeFile(data)
    const dir = dirOf(key)
    const file = path.join(dir, `step-${step}.${CKPT}`)
    const tmp = `${file}.tmp-${ownerTag()}`
    for (let attempt = 1; ; attempt++) {
      await fs.mkdir(dir, { recursive: true })
      try {
        await fs.writeFile(tmp, contents)
        await fs.rename(tmp, file)
        break
      } catch (e) {
        await fs.rm(tmp, { force: true }).catch(() => undefined)
        // Retention removed the (empty) trial folder between mkdir and the write: make it again.
        if (code(e) !== "ENOENT" || attempt >= SAVE_TRIES) throw e
      }
    }
    // A step saved before checksums existed is replaced, not kept beside this one.
    for (const legacy of ["json", "bin"]) await fs.rm(path.join(dir, `step-${step}.${legacy}`), { force: true })
  }

  /** Reads one file through a lease (a hard link of its own); undefined when the file is gone. */
  const readLeased = async (file: string): Promise<Uint8Array | undefined> => {
    const lease = `${file}.lease-${ownerTag()}`
    try {
      await fs.link(file, lease)
    } catch (e) {
      if (code(e) === "ENOENT") return undefined
      // A filesystem without hard links: an open file still reads whole after an unlink (POSIX).
      try {
        return await fs.readFile(file)
      } catch (e2) {
        if (code(e2) === "ENOENT") return undefined
        throw e2
      }
    }
    try {
      await hooks.afterLease?.(lease)
      return await fs.readFile(lease)
    } finally {
      await fs.rm(lease, { force: true })
      // Deleted while we read: the folder may be empty now, and nobody else will look at it.
      if (!(await fs.access(file).then(() => true, () => false))) await fs.rmdir(path.dirname(file)).catch(() => undefined)
    }
  }

  const load = (key: Key, step: number | undefined, tries: number): Effect.Effect<Data, CheckpointError | CheckpointNotFound | CheckpointCorrupt> =>
    Effect.flatMap(folder("load", key), ({ files }) => {
      const at = step ?? [...files.keys()].sort((a, b) => a - b).at(-1)
      const name = at === undefined ? undefined : files.get(at)?.[0]
      if (at === undefined || name === undefined) return Effect.fail(new CheckpointNotFound({ key, step }))
      const file = path.join(dirOf(key), name)
      return Effect.flatMap(
        Effect.tryPromise({ try: () => readLeased(file), catch: fail("load", key, at) }),
        (buf): Effect.Effect<Data, CheckpointError | CheckpointNotFound | CheckpointCorrupt> => {
          // Deleted between the listing and the lease: the latest step may be another one now.
          if (buf === undefined) return step === undefined && tries > 1 ? load(key, step, tries - 1) : Effect.fail(new CheckpointNotFound({ key, step }))
          const decoded = decodeFile(name, buf)
          return "data" in decoded
            ? Effect.succeed(decoded.data)
            : Effect.fail(new CheckpointCorrupt({ key, step: at, location: file, reason: decoded.corrupt }))
        }
      )
    })

  const removeIn = async (key: Key, options: Parameters<CheckpointService["remove"]>[1]) => {
    const dir = dirOf(key)
    const { files, leftovers } = await readFolder(dir)
    let left = 0
    for (const [s, names] of files) {
      if (!removes(options, s)) {
        left++
        continue
      }
      for (const n of names) await fs.rm(path.join(dir, n), { force: true })
    }
    for (const n of leftovers) await fs.rm(path.join(dir, n), { force: true })
    // An emptied trial folder goes (rmdir fails, harmlessly, while a lease or a save is in it).
    if (left === 0) await fs.rmdir(dir).catch(() => undefined)
  }

  const listStudy = async (study: string): Promise<ReadonlyArray<Entry>> => {
    const root = path.join(directory, studyDir(study))
    let dirs: Array<string>
    try {
      dirs = await fs.readdir(root)
    } catch (e) {
      if (code(e) === "ENOENT" || code(e) === "ENOTDIR") return []
      throw e
    }
    const out: Array<Entry> = []
    for (const d of dirs) {
      const m = /^trial-(\d+)$/.exec(d)
      if (m === null) continue
      const trial = Number(m[1])
      const { files, leased } = await readFolder(path.join(root, d))
      for (const [step, names] of files) {
        const stat = await fs.stat(path.join(root, d, names[0])).catch((e) => (code(e) === "ENOENT" ? undefined : Promise.reject(e)))
        if (stat === undefined) continue
        out.push({ trial, step, bytes: stat.size, savedAt: stat.mtimeMs, ...(names.some((n) => leased.has(n)) ? { loading: true } : {}) })
      }
    }
    return out.sort((a, b) => a.trial - b.trial || a.step - b.step)
  }

  return {
    label: `files:${directory}`,
    save: (key, step, data) => guard("save", key, step, () => Effect.tryPromise({ try: () => write(key, step, data), catch: fail("save", key, step) })),
    load: (key, step) => guard("load", key, step, () => load(key, step, 3)),
    steps: (key) => guard("list", key, undefined, () => Effect.map(folder("list", key), ({ files }) => [...files.keys()].sort((a, b) => a - b))),
    remove: (key, options) =>
      guard("remove", key, options?.before, () => Effect.tryPromise({ try: () => removeIn(key, options), catch: fail("remove", key, options?.before) })),
    list: (study) =>
      guard("list", { study, trial: 0 }, undefined, () =>
        Effect.tryPromise({ try: () => listStudy(study), catch: fail("list", { study, trial: 0 }, undefined) }))
  }
}
