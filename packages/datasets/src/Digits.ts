/**
 * UCI optical recognition of handwritten digits: 1797 images of 8x8 pixels, values 0..16,
 * 10 classes (the digits 0..9, about 180 each). UCI ML repository, CC BY 4.0 (Alpaydin & Kaynak
 * 1998).
 *
 * @example
 * import { Digits } from "@tunekit/datasets"
 * const data = Digits.load()
 * data.x[0].length // 64: row-major pixels, `pixel_r_c` is x[i][8 * r + c]
 *
 * @since 0.1.0
 */
import * as Dataset from "./Dataset.js"
import { cached, parseLabelled, readData } from "./internal/files.js"
import { digitsFeatures } from "./internal/sklearnNames.js"

/**
 * Image height and width.
 *
 * @example
 * import { Digits } from "@tunekit/datasets"
 * const inputShape = [Digits.side, Digits.side, 1] // for a CNN
 */
export const side = 8

/**
 * Loads the dataset (parsed once per process): 1797 rows of 64 pixels (row-major), labels 0..9.
 *
 * @example
 * import { Digits } from "@tunekit/datasets"
 * const { x, y } = Digits.load()
 */
export const load: () => Dataset.Classification = cached(() => {
  const { x, y } = parseLabelled("digits", readData("digits", "digits.csv.gz"), 0)
  return Dataset.classification({
    name: "digits",
    x,
    y,
    featureNames: digitsFeatures,
    classNames: Array.from({ length: 10 }, (_, d) => String(d))
  })
})

/**
 * The pixels of one row as an 8x8 image (rows of pixels), for convolutional models.
 *
 * @example
 * import { Digits } from "@tunekit/datasets"
 * const image = Digits.image(Digits.load().x[0]) // image[r][c]
 */
export const image = (row: ReadonlyArray<number>): ReadonlyArray<ReadonlyArray<number>> =>
  Array.from({ length: side }, (_, r) => row.slice(r * side, (r + 1) * side))
