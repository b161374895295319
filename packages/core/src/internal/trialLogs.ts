// A program trial's stdout and stderr, kept as `trial-N.out` and `trial-N.err` under the study's
// logs folder and written as the output comes, so a log is whole up to any metric decided on.
// Stderr's file is created at its first output: most trials write nothing there, and on a busy disk
// creating a file costs more of the study's CPU than anything else it does for a reused program's
// trial (0.1 to 0.3 ms, measured). A stale one from an earlier study of the same name is removed.
import * as fs from "node:fs"
import * as path from "node:path"

export class TrialLogs {
  private readonly out: number
  private err: number | undefined
  private readonly errPath: string

  constructor(logs: string, trial: number) {
    this.out = fs.openSync(path.join(logs, `trial-${trial}.out`), "w")
    this.errPath = path.join(logs, `trial-${trial}.err`)
    try {
      fs.unlinkSync(this.errPath)
    } catch {
      // none: the usual case
    }
  }

  write(file: "out" | "err", chunk: string) {
    fs.writeSync(file === "out" ? this.out : (this.err ??= fs.openSync(this.errPath, "w")), chunk)
  }

  close() {
    fs.closeSync(this.out)
    if (this.err !== undefined) fs.closeSync(this.err)
  }
}

/**
 * Stores the last `n` lines of stdout and stderr as the trial's user attributes `stdout_tail` and
 * `stderr_tail`, leaving out an empty one: most trials write nothing to stderr, and each attribute
 * is a storage write. Never fails (the trial may have ended meanwhile).
 */
export const keepTails = (
  trial: { readonly setUserAttr: (key: string, value: string) => Promise<void> },
  outLines: ReadonlyArray<string>,
  errLines: ReadonlyArray<string>,
  n: number
): Promise<void> => {
  const writes: Array<Promise<void>> = []
  if (outLines.length > 0) writes.push(trial.setUserAttr("stdout_tail", tail(outLines, n)))
  if (errLines.length > 0) writes.push(trial.setUserAttr("stderr_tail", tail(errLines, n)))
  return Promise.all(writes).then(() => undefined, () => undefined)
}

/** Keeps a program's last `n` lines of output: adds one, drops the oldest past `n`. */
export const keepLine = (lines: Array<string>, line: string, n: number): void => {
  lines.push(line)
  if (lines.length > n) lines.shift()
}

/** The last `n` lines kept, as text. */
export const tail = (lines: ReadonlyArray<string>, n: number): string => lines.slice(-n).join("\n")
