/**
 * TensorFlow.js backends as a service. The backend is chosen by providing a layer, not by a global
 * call in user code: `Backend.layerWasm` (the default), `Backend.layerCpu`, or
 * `Backend.layer("tensorflow")` / `Backend.layer("tensorflow-gpu")` for the native backends,
 * which are optional peer dependencies (`@tensorflow/tfjs-node`, `@tensorflow/tfjs-node-gpu`)
 * loaded by a dynamic import only when asked for.
 *
 * Building the layer selects the backend and waits until it is ready; trainers take the service
 * and select its backend again before they create a tensor, so that two layers in one process
 * cannot leave a trainer on the wrong one.
 *
 * @example
 * import { Effect } from "effect"
 * import { Backend } from "@tunekit/tfjs"
 *
 * const program = Effect.gen(function*() {
 *   const backend = yield* Backend.Backend
 *   return backend.name // "wasm"
 * })
 * Effect.runPromise(program.pipe(Effect.provide(Backend.layerWasm)))
 *
 * @since 0.1.0
 */
import * as tf from "@tensorflow/tfjs"
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm"
import { Context, Effect, Layer } from "effect"
import { createRequire } from "node:module"
import * as path from "node:path"
import { BackendUnavailable } from "./Errors.js"
import { registerCpuKernels, registerWasmKernels } from "./internal/kernels.js"

/** The backends tunekit knows how to load. */
export type Name = "wasm" | "cpu" | "tensorflow" | "tensorflow-gpu"

/** The names, for validation and benchmarks. */
export const names: ReadonlyArray<Name> = ["wasm", "cpu", "tensorflow", "tensorflow-gpu"]

/** The selected backend. */
export interface BackendService {
  readonly name: Name
  /** Makes this backend the current one (a no-op when it already is) and waits until it is ready. */
  readonly activate: Effect.Effect<void, BackendUnavailable>
  /** `activate` as a Promise, for Promise and RxJS code. */
  readonly activatePromise: () => Promise<void>
}

/** The Backend service tag. */
export class Backend extends Context.Tag("@tunekit/tfjs/Backend")<Backend, BackendService>() {}

const nativePackages: Record<"tensorflow" | "tensorflow-gpu", string> = {
  tensorflow: "@tensorflow/tfjs-node",
  "tensorflow-gpu": "@tensorflow/tfjs-node-gpu"
}

let wasmPathsSet = false

// The wasm backend fetches its .wasm files at run time; in Node they are read from the package's
// dist folder, which setWasmPaths takes as a file path prefix (with its trailing separator).
const prepareWasm = () => {
  if (wasmPathsSet || typeof process === "undefined" || process.versions?.node === undefined) return
  const require = createRequire(import.meta.url)
  const dir = path.join(path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json")), "dist") + path.sep
  setWasmPaths(dir)
  wasmPathsSet = true
}

const loadNative = async (name: "tensorflow" | "tensorflow-gpu") => {
  if (tf.findBackend(name) !== null) return
  const pkg = nativePackages[name]
  try {
    // A variable specifier keeps bundlers and the type checker from requiring the optional package.
    const specifier: string = pkg
    await import(specifier)
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException)?.code === "ERR_MODULE_NOT_FOUND" || /Cannot find (module|package)/.test(String(e))
    throw new BackendUnavailable({
      backend: name,
      reason: missing ? `the optional package ${pkg} is not installed` : `${pkg} failed to load: ${(e as Error)?.message ?? String(e)}`,
      install: `npm install ${pkg}@~4.22.0 (it downloads libtensorflow${name === "tensorflow-gpu" ? " with CUDA support" : ""} while installing)`
    })
  }
  if (tf.findBackend(name) === null) {
    throw new BackendUnavailable({
      backend: name,
      reason: `${pkg} loaded but registered no "${name}" backend with this copy of @tensorflow/tfjs (are two versions of @tensorflow/tfjs installed?)`,
      install: `npm install ${pkg}@~4.22.0`
    })
  }
}

/**
 * Selects a backend and waits until it is ready: the Promise form, for scripts and benchmarks.
 * Rejects with `BackendUnavailable` when it cannot be loaded.
 *
 * @example
 * import { Backend } from "@tunekit/tfjs"
 * await Backend.select("cpu")
 */
export const select = async (name: Name): Promise<void> => {
  if (!names.includes(name)) {
    throw new BackendUnavailable({ backend: String(name), reason: `unknown backend; known: ${names.join(", ")}` })
  }
  if (name === "wasm") {
    prepareWasm()
    registerWasmKernels()
  } else if (name === "cpu") registerCpuKernels()
  else await loadNative(name)
  if (tf.getBackend() === name) return
  let ok: boolean
  try {
    ok = await tf.setBackend(name)
  } catch (e) {
    throw new BackendUnavailable({ backend: name, reason: (e as Error)?.message ?? String(e) })
  }
  if (!ok) throw new BackendUnavailable({ backend: name, reason: "TensorFlow.js could not initialize it" })
  await tf.ready()
}

/**
 * The service for a backend, without selecting it yet.
 *
 * @example
 * import { Backend } from "@tunekit/tfjs"
 * const cpu = Backend.make("cpu")
 */
export const make = (name: Name): BackendService => ({
  name,
  activatePromise: () => select(name),
  activate: Effect.tryPromise({
    try: () => select(name),
    catch: (e) => e instanceof BackendUnavailable ? e : new BackendUnavailable({ backend: name, reason: String(e) })
  })
})

/**
 * A layer that selects the named backend (and fails with `BackendUnavailable` when it can't).
 *
 * @example
 * import { Backend } from "@tunekit/tfjs"
 * const native = Backend.layer("tensorflow") // needs @tensorflow/tfjs-node installed
 */
export const layer = (name: Name): Layer.Layer<Backend, BackendUnavailable> =>
  Layer.effect(Backend, Effect.as(make(name).activate, make(name)))

/**
 * The WebAssembly backend (SIMD in Node), the default: it ships in its npm package.
 *
 * @example
 * import { Backend } from "@tunekit/tfjs"
 * const layer = Backend.layerWasm
 */
export const layerWasm: Layer.Layer<Backend, BackendUnavailable> = layer("wasm")

/**
 * The plain JavaScript backend: slow, but always there.
 *
 * @example
 * import { Backend } from "@tunekit/tfjs"
 * const layer = Backend.layerCpu
 */
export const layerCpu: Layer.Layer<Backend, BackendUnavailable> = layer("cpu")
