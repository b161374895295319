/**
 * Wine recognition: 178 wines from three cultivars of one Italian region, 13 chemical
 * measurements, 3 classes (59, 71, 48). UCI ML repository, CC BY 4.0 (Aeberhard & Forina 1991).
 *
 * @example
 * import { Wine } from "@tunekit/datasets"
 * Wine.load().classNames // ["class_0", "class_1", "class_2"]
 *
 * @since 0.1.0
 */
import type * as Dataset from "./Dataset.js"
import { cached } from "./internal/files.js"
import { sklearnCsv } from "./internal/loaders.js"
import { wineFeatures } from "./internal/sklearnNames.js"

/**
 * Loads the dataset (parsed once per process): 178 rows of 13 features, labels 0..2.
 *
 * @example
 * import { Wine } from "@tunekit/datasets"
 * const { x, y } = Wine.load()
 */
export const load: () => Dataset.Classification = cached(() => sklearnCsv("wine", "wine_data.csv", wineFeatures))
