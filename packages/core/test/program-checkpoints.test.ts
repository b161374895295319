// A program's checkpoint folder as one checkpoint (internal/programCheckpoints.ts): packed and
// unpacked whole, and a checkpoint that is not a folder, or names a file outside it, is refused.
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { pack, unpack } from "../src/internal/programCheckpoints.js"

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-program-folder-"))

describe("a program's folder as a checkpoint", () => {
  it("unpacks to the same files, nested folders and empty files included", async () => {
    const from = tmp()
    fs.mkdirSync(path.join(from, "weights", "layer 1"), { recursive: true })
    fs.writeFileSync(path.join(from, "state.json"), JSON.stringify({ epoch: 4 }))
    fs.writeFileSync(path.join(from, "weights", "layer 1", "w.bin"), Buffer.from([0, 10, 255, 13, 10]))
    fs.writeFileSync(path.join(from, "empty"), "")
    const to = path.join(tmp(), "restored")
    await unpack(await pack(from), to)
    const read = (root: string) => ["empty", "state.json", "weights/layer 1/w.bin"].map((f) => [...fs.readFileSync(path.join(root, f))])
    expect(read(to)).toEqual(read(from))
  })

  it("refuses JSON, bytes of another trainer, cut archives, and names outside the folder", async () => {
    const to = tmp()
    await expect(unpack({ weights: [1] }, to)).rejects.toThrow("it is JSON, not a program's folder")
    await expect(unpack(new Uint8Array([1, 2, 3]), to)).rejects.toThrow("it is not a program's folder")
    const evil = new TextEncoder().encode(`tunekit-folder 1\n${JSON.stringify([["../escaped", 1]])}\nx`)
    await expect(unpack(evil, path.join(to, "inner"))).rejects.toThrow("it names a file outside its folder: ../escaped")
    expect(fs.existsSync(path.join(to, "escaped"))).toBe(false)
    const from = tmp()
    fs.writeFileSync(path.join(from, "a"), "abcdef")
    const whole = await pack(from)
    await expect(unpack(whole.subarray(0, whole.length - 2), path.join(to, "cut"))).rejects.toThrow("its files hold")
  })
})
