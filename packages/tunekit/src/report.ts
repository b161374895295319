/**
 * The metric reporter for Node programs that tunekit runs as trials (`Process.trainer`): one line
 * of code per step. It writes the metric as a JSON line on stdout and, when tunekit asks for it
 * (`TUNEKIT_ACK=1`), waits for the decision on stdin, so the program stops at the step where it
 * is pruned.
 *
 * @example
 * import { params, report } from "tunekit/report"
 * const { lr } = params()
 * for (let epoch = 1; epoch <= 20; epoch++) {
 *   const loss = 1 / (epoch * Number(lr))
 *   if (!report({ step: epoch, loss })) break // pruned: stop training
 * }
 *
 * @since 0.2.0
 */
import * as fs from "node:fs"

const readLine = (): string | undefined => {
  const one = Buffer.alloc(1)
  let line = ""
  for (;;) {
    let n: number
    try {
      n = fs.readSync(0, one, 0, 1, null)
    } catch (e) {
      // stdin not ready yet (non-blocking): try again
      if ((e as NodeJS.ErrnoException).code === "EAGAIN") continue
      return line === "" ? undefined : line
    }
    if (n === 0) return line === "" ? undefined : line
    const c = one.toString("utf8")
    if (c === "\n") return line
    line += c
  }
}

/**
 * Reports a step's metrics. Returns true to go on, false when the trial is pruned or stopped
 * (then end the program, with exit code 0).
 */
export const report = (metric: { readonly step: number } & Readonly<Record<string, number>>): boolean => {
  fs.writeSync(1, JSON.stringify(metric) + "\n")
  if (process.env.TUNEKIT_ACK !== "1") return true
  return readLine() === "continue"
}

/** The trial's params, from `TUNEKIT_PARAMS` (they come as `--name=value` arguments too). */
export const params = (): Readonly<Record<string, unknown>> => JSON.parse(process.env.TUNEKIT_PARAMS ?? "{}") as Record<string, unknown>
