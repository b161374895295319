// A real MLflow tracking server for tests: installed by scripts/mlflow-venv.sh (idempotent),
// started on a free loopback port with a temporary SQLite backend and artifact folder, stopped
// (its process group) when the test file ends.
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as http from "node:http"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..")

export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.unref()
    srv.on("error", reject)
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port
      srv.close(() => resolve(port))
    })
  })

/** A loopback HTTP server on a free port, for a test: its URL, and how to close it (open connections too). */
export const serve = async (handler: http.RequestListener): Promise<{ readonly url: string; readonly close: () => Promise<void> }> => {
  const server = http.createServer(handler)
  const port = await freePort()
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r))
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      server.closeAllConnections()
      return new Promise((r) => server.close(() => r()))
    }
  }
}

export interface Server {
  readonly url: string
  readonly dir: string
  readonly stop: () => Promise<void>
}

/** Starts `mlflow server`; resolves when /health answers. */
export const startMlflow = async (): Promise<Server> => {
  const mlflow = execFileSync(path.join(root, "scripts/mlflow-venv.sh"), { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-mlflow-"))
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const log = fs.openSync(path.join(dir, "server.log"), "w")
  const child: ChildProcess = spawn(
    mlflow,
    [
      "server",
      "--host", "127.0.0.1",
      "--port", String(port),
      "--backend-store-uri", `sqlite:///${path.join(dir, "mlflow.db")}`,
      "--artifacts-destination", path.join(dir, "artifacts"),
      "--workers", "1"
    ],
    { cwd: dir, detached: true, stdio: ["ignore", log, log], env: { ...process.env, MLFLOW_DISABLE_TELEMETRY: "true", DO_NOT_TRACK: "true" } }
  )
  let exited = false
  child.on("exit", () => void (exited = true))
  const stop = async () => {
    if (!exited && child.pid !== undefined) {
      try {
        process.kill(-child.pid, "SIGTERM")
      } catch {
        // already gone
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          try {
            process.kill(-child.pid!, "SIGKILL")
          } catch {
            // already gone
          }
          resolve()
        }, 5000)
        child.once("exit", () => (clearTimeout(t), resolve()))
      })
    }
    fs.closeSync(log)
    fs.rmSync(dir, { recursive: true, force: true })
  }
  const deadline = Date.now() + 240_000
  for (;;) {
    if (exited) {
      const text = fs.readFileSync(path.join(dir, "server.log"), "utf8")
      await stop()
      throw new Error(`mlflow server exited:\n${text.slice(-2000)}`)
    }
    try {
      const r = await fetch(`${url}/health`)
      if (r.ok) break
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      await stop()
      throw new Error("mlflow server did not start within 240 s")
    }
    await new Promise((r) => setTimeout(r, 250))
  }
  return { url, dir, stop }
}
