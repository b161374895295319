/**
 * A throwaway PostgreSQL server for tests and benchmarks: `initdb` into a temporary folder, then
 * `pg_ctl` on a free loopback port, with fsync off (nothing here must survive the machine). As
 * root, the server runs as the `postgres` user, since PostgreSQL refuses to run as root.
 * `scripts/postgres-install.sh` installs Debian's postgresql package when the binaries are missing.
 *
 * @since 0.1.0
 */
import { execFile, execFileSync, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { promisify } from "node:util"
import pg from "pg"
import { Effect, type Scope } from "effect"

const run = promisify(execFile)

/** A running throwaway server. */
export interface Server {
  /** A connection string to its `postgres` database (user postgres, no password). */
  readonly url: string
  readonly port: number
  /** The temporary folder holding the data and the log. */
  readonly dir: string
  /** Creates another database on the server and gives its connection string. */
  readonly createDatabase: (name: string) => Promise<string>
  /** Stops the server fast (connections are cut), then starts it again on the same port. */
  readonly restart: () => Promise<void>
  /** Stops the server and removes its folder. */
  readonly stop: () => Promise<void>
}

const binDir = (): string => {
  const candidates = [
    ...(process.env.PG_BINDIR ? [process.env.PG_BINDIR] : []),
    ...(process.env.PATH ?? "").split(path.delimiter),
    ...(fs.existsSync("/usr/lib/postgresql")
      ? fs.readdirSync("/usr/lib/postgresql").sort().reverse().map((v) => `/usr/lib/postgresql/${v}/bin`)
      : [])
  ]
  const found = candidates.find((d) => d !== "" && fs.existsSync(path.join(d, "initdb")) && fs.existsSync(path.join(d, "pg_ctl")))
  if (found === undefined) {
    throw new Error("PostgreSQL's server binaries (initdb, pg_ctl) were not found: run scripts/postgres-install.sh, or `apt-get install -y postgresql`")
  }
  return found
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.unref()
    srv.on("error", reject)
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port
      srv.close(() => resolve(port))
    })
  })

/** Runs a server binary, as the postgres user when this process is root. */
const asServerUser = (bin: string, args: ReadonlyArray<string>) =>
  process.getuid?.() === 0
    ? run("runuser", ["-u", "postgres", "--", bin, ...args])
    : run(bin, [...args])

// The watchdog: a detached process that stops the server and removes its folder once the process
// that started it is gone without stopping it (a test run killed, a benchmark interrupted), so
// that no server outlives its run. It leaves as soon as the folder is gone (a normal stop).
const WATCHDOG = `
const [parent, dir, ...stopCommand] = process.argv.slice(1)
const fs = require("node:fs")
const alive = (pid) => { try { process.kill(pid, 0); return true } catch (e) { return e.code === "EPERM" } }
const timer = setInterval(() => {
  if (!fs.existsSync(dir)) return clearInterval(timer)
  if (alive(Number(parent))) return
  clearInterval(timer)
  try { require("node:child_process").execFileSync(stopCommand[0], stopCommand.slice(1), { stdio: "ignore" }) } catch {}
  fs.rmSync(dir, { recursive: true, force: true })
}, 1000)
`

const watch = (dir: string, stopCommand: ReadonlyArray<string>) =>
  spawn(process.execPath, ["-e", WATCHDOG, String(process.pid), dir, ...stopCommand], { detached: true, stdio: "ignore" }).unref()

/**
 * Starts a throwaway server; resolves once it accepts connections. Should the process end without
 * stopping it, a watchdog stops it within about a second.
 *
 * @example
 * import { Server } from "@tunekit/postgres/testing"
 * const pg = await Server.start()
 * // ... Postgres.layer(pg.url) ...
 * await pg.stop()
 */
export const start = async (): Promise<Server> => {
  const bin = binDir()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-pg-"))
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim())
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim())
    fs.chownSync(dir, uid, gid)
  }
  const data = path.join(dir, "data")
  const log = path.join(dir, "server.log")
  await asServerUser(path.join(bin, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"])
  const port = await freePort()
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`
  const pgCtl = (args: ReadonlyArray<string>) => asServerUser(path.join(bin, "pg_ctl"), ["-D", data, ...args])
  const begin = () => pgCtl(["-o", options, "-l", log, "-w", "-t", "60", "start"])
  try {
    await begin()
  } catch (e) {
    const text = fs.existsSync(log) ? fs.readFileSync(log, "utf8").slice(-2000) : ""
    fs.rmSync(dir, { recursive: true, force: true })
    throw new Error(`PostgreSQL did not start: ${(e as Error).message}\n${text}`)
  }
  const stopArgs = [path.join(bin, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop"]
  watch(dir, process.getuid?.() === 0 ? ["runuser", "-u", "postgres", "--", ...stopArgs] : stopArgs)
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`
  let stopped = false
  return {
    url,
    port,
    dir,
    createDatabase: async (name) => {
      const client = new pg.Client({ connectionString: url })
      await client.connect()
      try {
        await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`)
      } finally {
        await client.end()
      }
      return `postgres://postgres@127.0.0.1:${port}/${name}`
    },
    restart: async () => {
      await pgCtl(["-m", "fast", "-w", "stop"])
      await begin()
    },
    stop: async () => {
      if (stopped) return
      stopped = true
      await pgCtl(["-m", "immediate", "-w", "stop"]).catch(() => undefined)
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }
}

/**
 * A server for the life of a scope.
 *
 * @example
 * import { Effect } from "effect"
 * import { Server } from "@tunekit/postgres/testing"
 * const program = Effect.scoped(Effect.flatMap(Server.scoped, (pg) => Effect.log(pg.url)))
 */
export const scoped: Effect.Effect<Server, never, Scope.Scope> = Effect.acquireRelease(
  Effect.promise(start),
  (s) => Effect.promise(s.stop)
)
