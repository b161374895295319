// The XGBoost WebAssembly module of ml-xgboost, loaded on first use, and replaced by a fresh
// instance after any failure inside it.
//
// Why replace it: the module is built without C++ exception catching, so an XGBoost error
// unwinds through JavaScript and leaves whatever the failed call had allocated (the exception,
// half-built structures) in the module's heap for good. Dropping the instance releases its whole
// WebAssembly.Memory to the garbage collector; the next model loads a clean one.
import { createRequire } from "node:module"

/** ml-xgboost's model class, as far as tunekit uses it. */
export interface XgbModel {
  model?: number
  train(x: ReadonlyArray<ReadonlyArray<number>>, y: ReadonlyArray<number>): void
  predict(x: ReadonlyArray<ReadonlyArray<number>>): Array<number | Array<number>>
  free(): void
}

export interface Instance {
  readonly XGBoost: new (options: Record<string, string | number>) => XgbModel
  /** The Emscripten module: its heap and its allocator's break. */
  readonly wasm: {
    readonly HEAPU8: Uint8Array
    _sbrk(n: number): number
    printErr: (s: string) => void
    cwrap(name: string, ret: null, args: ReadonlyArray<string>): (...args: ReadonlyArray<number>) => void
  }
  /** Adds boosting rounds to a trained model (ml-xgboost's own train always starts a new one). */
  readonly trainMore: (model: number, rounds: number) => void
  /** Models trained on this instance and not yet freed. */
  live: number
  /** What the module printed to stderr during the current call (its error messages). */
  log: Array<string>
  /** Set once a call failed inside the module: the instance is dropped. */
  poisoned: boolean
  readonly generation: number
}

const require = createRequire(import.meta.url)
let current: Promise<Instance> | undefined
let generation = 0
/** Models freed over the process's life, for tests and diagnostics. */
export const counters = { created: 0, freed: 0, instances: 0 }

const NOISE = /wasm streaming compile failed|falling back to ArrayBuffer instantiation/

const loadFresh = async (): Promise<Instance> => {
  const libPath = require.resolve("ml-xgboost")
  const wasmPath = require.resolve("ml-xgboost/dist/wasm/xgboost")
  delete require.cache[libPath]
  delete require.cache[wasmPath]
  const wasm = require(wasmPath) as Instance["wasm"]
  const inst = { live: 0, log: [] as Array<string>, poisoned: false, generation: ++generation } as Omit<Instance, "XGBoost" | "wasm">
  // Node's fetch cannot read a file path, so Emscripten reports a failed streaming compile and
  // falls back to reading the file: expected, not worth a warning. Other messages are kept for
  // the error of a failed call.
  wasm.printErr = (s: string) => {
    if (!NOISE.test(s)) (inst as Instance).log.push(s)
  }
  const XGBoost = await (require(libPath) as Promise<Instance["XGBoost"]>)
  counters.instances++
  const trainMore = wasm.cwrap("train_full_model", null, ["number", "number"])
  return Object.assign(inst, { XGBoost, wasm, trainMore }) as Instance
}

/** The live instance (loaded on first use). */
export const instance = (): Promise<Instance> => {
  current ??= loadFresh().catch((e) => {
    current = undefined
    throw e
  })
  return current
}

/** Drops an instance after a failure inside it: the next call loads a clean one. */
export const retire = (inst: Instance) => {
  inst.poisoned = true
  void current?.then((c) => {
    if (c === inst) current = undefined
  })
}
