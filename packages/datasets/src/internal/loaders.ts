// Parsers shared by the bundled classification loaders.
import * as Dataset from "../Dataset.js"
import { InvalidDataset } from "../Errors.js"
import { parseLabelled, readData } from "./files.js"

/**
 * The scikit-learn CSV layout: a first line `rows,features,class0,class1,...`, then one row a
 * line with the class index last. The header's counts are checked against the data.
 */
export const sklearnCsv = (dataset: string, file: string, featureNames: ReadonlyArray<string>): Dataset.Classification => {
  const { header, x, y } = parseLabelled(dataset, readData(dataset, file), 1)
  const [rows, features, ...classNames] = header[0].split(",")
  if (Number(rows) !== x.length || Number(features) !== featureNames.length) {
    throw new InvalidDataset({
      dataset,
      reason: `the header announces ${rows} rows of ${features} features, the file has ${x.length} rows of ${x[0]?.length ?? 0}`
    })
  }
  return Dataset.classification({ name: dataset, x, y, classNames, featureNames })
}
