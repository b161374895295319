// A small PNG reader for the tests: the header's size, and the pixels of an 8-bit RGB or RGBA
// image (what rsvg-convert writes), un-filtered as the PNG specification's section 9 says, so a
// test can tell a drawn chart from a blank page.
import * as zlib from "node:zlib"

export interface Png {
  readonly width: number
  readonly height: number
  /** Bytes per pixel: 3 (RGB) or 4 (RGBA). */
  readonly channels: number
  readonly pixels: Uint8Array
}

const SIGNATURE = "89504e470d0a1a0a"

export const decode = (b: Buffer): Png => {
  if (b.subarray(0, 8).toString("hex") !== SIGNATURE) throw new Error("not a PNG: wrong signature")
  let at = 8
  let width = 0
  let height = 0
  let channels = 0
  const data: Array<Buffer> = []
  while (at < b.length) {
    const length = b.readUInt32BE(at)
    const type = b.subarray(at + 4, at + 8).toString("ascii")
    const body = b.subarray(at + 8, at + 8 + length)
    if (type === "IHDR") {
      width = body.readUInt32BE(0)
      height = body.readUInt32BE(4)
      const [depth, color, , , interlace] = body.subarray(8, 13)
      if (depth !== 8 || (color !== 2 && color !== 6) || interlace !== 0) throw new Error(`unsupported PNG: depth ${depth}, colour type ${color}, interlace ${interlace}`)
      channels = color === 2 ? 3 : 4
    } else if (type === "IDAT") data.push(body)
    at += 12 + length
  }
  const raw = zlib.inflateSync(Buffer.concat(data))
  const stride = width * channels
  const pixels = new Uint8Array(height * stride)
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]
    for (let x = 0; x < stride; x++) {
      const v = raw[y * (stride + 1) + 1 + x]
      const a = x >= channels ? pixels[y * stride + x - channels] : 0
      const up = y > 0 ? pixels[(y - 1) * stride + x] : 0
      const c = x >= channels && y > 0 ? pixels[(y - 1) * stride + x - channels] : 0
      const p = a + up - c
      const paeth = Math.abs(p - a) <= Math.abs(p - up) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - up) <= Math.abs(p - c) ? up : c
      const predicted = [0, a, up, (a + up) >> 1, paeth][filter]
      if (predicted === undefined) throw new Error(`unknown PNG filter ${filter} on row ${y}`)
      pixels[y * stride + x] = (v + predicted) & 0xff
    }
  }
  return { width, height, channels, pixels }
}

/** The fraction of the pixels that are not white. */
export const inked = (png: Png): number => {
  let n = 0
  for (let i = 0; i < png.pixels.length; i += png.channels) {
    if (png.pixels[i] < 250 || png.pixels[i + 1] < 250 || png.pixels[i + 2] < 250) n++
  }
  return n / (png.width * png.height)
}
