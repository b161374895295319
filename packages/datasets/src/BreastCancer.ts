/**
 * Breast Cancer Wisconsin (Diagnostic): 569 tumours, 30 features computed from digitized images
 * of a fine needle aspirate, 2 classes (212 malignant, 357 benign). UCI ML repository, CC BY 4.0
 * (Wolberg, Street, Mangasarian 1995).
 *
 * @example
 * import { BreastCancer } from "@tunekit/datasets"
 * const data = BreastCancer.load()
 * data.classNames // ["malignant", "benign"]
 *
 * @since 0.1.0
 */
import type * as Dataset from "./Dataset.js"
import { cached } from "./internal/files.js"
import { sklearnCsv } from "./internal/loaders.js"
import { breastCancerFeatures } from "./internal/sklearnNames.js"

/**
 * Loads the dataset (parsed once per process): 569 rows of 30 features, labels 0 = malignant,
 * 1 = benign.
 *
 * @example
 * import { BreastCancer } from "@tunekit/datasets"
 * const { x, y, featureNames } = BreastCancer.load()
 */
export const load: () => Dataset.Classification = cached(() => sklearnCsv("breast-cancer", "breast_cancer.csv", breastCancerFeatures))
