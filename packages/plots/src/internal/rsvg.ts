// PNG from SVG with librsvg's `rsvg-convert` (Debian's librsvg2-bin). No npm package rasterizes
// SVG without a native binary fetched at install time (resvg-js, sharp, node-canvas), so the
// conversion runs the system's converter: the SVG on its stdin, the PNG from its stdout.
import { spawn } from "node:child_process"
import { Effect } from "effect"
import { ConvertFailed, MissingConverter } from "../Errors.js"

export const COMMAND = "rsvg-convert"
export const DEBIAN_PACKAGE = "librsvg2-bin"

/** The PNG of an SVG document at `zoom` times its size, on white (a chart's background is white too). */
export const toPng = (svg: string, zoom = 1): Effect.Effect<Buffer, MissingConverter | ConvertFailed> =>
  Effect.async<Buffer, MissingConverter | ConvertFailed>((callback) => {
    // A failed spawn emits "error" and then "close": the first one answers.
    let done = false
    const resume = (e: Effect.Effect<Buffer, MissingConverter | ConvertFailed>) => {
      if (!done) callback(e)
      done = true
    }
    const child = spawn(COMMAND, ["--format", "png", "--background-color", "white", "--zoom", String(zoom)], {
      stdio: ["pipe", "pipe", "pipe"]
    })
    const out: Array<Buffer> = []
    const err: Array<Buffer> = []
    child.stdout.on("data", (b: Buffer) => out.push(b))
    child.stderr.on("data", (b: Buffer) => err.push(b))
    // A converter that exits before reading all of stdin makes the write fail (EPIPE): its exit says why.
    child.stdin.on("error", () => {})
    child.on("error", (e: NodeJS.ErrnoException) =>
      resume(Effect.fail(e.code === "ENOENT" ? new MissingConverter({ command: COMMAND, debianPackage: DEBIAN_PACKAGE }) : new ConvertFailed({ command: COMMAND, reason: e.message }))))
    child.on("close", (code, signal) => {
      if (code === 0) return resume(Effect.succeed(Buffer.concat(out)))
      const stderr = Buffer.concat(err).toString("utf8").trim()
      resume(Effect.fail(new ConvertFailed({ command: COMMAND, reason: `exited with ${code ?? signal}${stderr === "" ? "" : `: ${stderr}`}` })))
    })
    child.stdin.end(svg)
    return Effect.sync(() => child.kill())
  })
