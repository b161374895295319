/**
 * The typed errors of @tunekit/plots.
 *
 * @since 0.1.0
 */
import { Data } from "effect"
import { suggest } from "./internal/suggest.js"

/**
 * A plot was asked for something the study cannot give: an objective it does not have, a
 * parameter no trial used, three objectives to a two-objective front. Thrown by the plot
 * functions, which are plain functions of a study's trials.
 *
 * @example
 * import { History, Source } from "@tunekit/plots"
 * const study = Source.make({ name: "s", directions: ["minimize"] }, [])
 * History.make(study, { objective: 3 }) // throws InvalidPlot: history: the study "s" has 1 objective (value), not objective 3
 */
export class InvalidPlot extends Data.TaggedError("InvalidPlot")<{
  readonly plot: string
  readonly reason: string
}> {
  override get message() {
    return `${this.plot}: ${this.reason}`
  }
}

/**
 * A plot kind that is not one of `Kind.names`.
 *
 * @example
 * import { UnknownPlot } from "@tunekit/plots"
 * new UnknownPlot({ kind: "parallel", known: ["history", "parallel-coordinates"] }).message
 * // unknown plot "parallel" (did you mean parallel-coordinates?); the plots: history, parallel-coordinates
 */
export class UnknownPlot extends Data.TaggedError("UnknownPlot")<{
  readonly kind: string
  readonly known: ReadonlyArray<string>
}> {
  override get message() {
    const close = suggest(this.kind, this.known)
    return `unknown plot ${JSON.stringify(this.kind)}${close.length > 0 ? ` (did you mean ${close.join(" or ")}?)` : ""}; the plots: ${this.known.join(", ")}`
  }
}

/**
 * A plot that does not apply to a study (a PBT lineage of a study run without PBT, a Pareto
 * front of one objective): why, and the plots that do apply.
 *
 * @example
 * import { NotApplicable } from "@tunekit/plots"
 * new NotApplicable({ kind: "lineage", study: "s", reason: "no trial has a PBT lineage", applicable: ["history"] }).message
 * // lineage does not apply to study "s": no trial has a PBT lineage; plots that apply: history
 */
export class NotApplicable extends Data.TaggedError("NotApplicable")<{
  readonly kind: string
  readonly study: string
  readonly reason: string
  readonly applicable: ReadonlyArray<string>
}> {
  override get message() {
    const rest = this.applicable.length === 0 ? "no plot applies yet" : `plots that apply: ${this.applicable.join(", ")}`
    return `${this.kind} does not apply to study ${JSON.stringify(this.study)}: ${this.reason}; ${rest}`
  }
}

/**
 * A file name whose extension names no format that can be written there.
 *
 * @example
 * import { UnsupportedFormat } from "@tunekit/plots"
 * new UnsupportedFormat({ path: "loss.jpg", supported: [".svg", ".png", ".html"] }).message
 * // cannot write loss.jpg: its extension names no format written here; use .svg, .png or .html
 */
export class UnsupportedFormat extends Data.TaggedError("UnsupportedFormat")<{
  readonly path: string
  readonly supported: ReadonlyArray<string>
}> {
  override get message() {
    const s = this.supported
    const list = s.length <= 1 ? s.join("") : `${s.slice(0, -1).join(", ")} or ${s[s.length - 1]}`
    return `cannot write ${this.path}: its extension names no format written here; use ${list}`
  }
}

/**
 * PNG is converted from the SVG by `rsvg-convert`, which is not installed.
 *
 * @example
 * import { MissingConverter } from "@tunekit/plots"
 * new MissingConverter({ command: "rsvg-convert", debianPackage: "librsvg2-bin" }).message
 */
export class MissingConverter extends Data.TaggedError("MissingConverter")<{
  readonly command: string
  readonly debianPackage: string
}> {
  override get message() {
    return `writing PNG needs ${this.command}, which is not on the PATH: install Debian's ${this.debianPackage} (apt-get install ${this.debianPackage}, or scripts/rsvg-install.sh), or write .svg or .html`
  }
}

/**
 * A plot or report could not be written: the converter failed, or the file system refused.
 *
 * @example
 * import { WriteFailed } from "@tunekit/plots"
 * new WriteFailed({ path: "out/plot.svg", reason: "the folder out does not exist" }).message
 */
export class WriteFailed extends Data.TaggedError("WriteFailed")<{
  readonly path: string
  readonly reason: string
}> {
  override get message() {
    return `cannot write ${this.path}: ${this.reason}`
  }
}

/**
 * The SVG-to-PNG converter ran and failed.
 *
 * @example
 * import { ConvertFailed } from "@tunekit/plots"
 * new ConvertFailed({ command: "rsvg-convert", reason: "exited with 1: Error reading SVG" }).message
 */
export class ConvertFailed extends Data.TaggedError("ConvertFailed")<{
  readonly command: string
  readonly reason: string
}> {
  override get message() {
    return `${this.command} could not convert the SVG to PNG: ${this.reason}`
  }
}
