/**
 * Fisher's iris: 150 flowers, 4 measurements, 3 species (50 each). UCI ML repository, CC BY 4.0
 * (Fisher 1936).
 *
 * @example
 * import { Iris } from "@tunekit/datasets"
 * Iris.load().classNames // ["setosa", "versicolor", "virginica"]
 *
 * @since 0.1.0
 */
import type * as Dataset from "./Dataset.js"
import { cached } from "./internal/files.js"
import { sklearnCsv } from "./internal/loaders.js"
import { irisFeatures } from "./internal/sklearnNames.js"

/**
 * Loads the dataset (parsed once per process): 150 rows of 4 features, labels 0..2.
 *
 * @example
 * import { Iris } from "@tunekit/datasets"
 * const { x, y } = Iris.load()
 */
export const load: () => Dataset.Classification = cached(() => sklearnCsv("iris", "iris.csv", irisFeatures))
