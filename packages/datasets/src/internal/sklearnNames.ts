// Feature names as the datasets' UCI descriptions give them (and scikit-learn's load_* ship them).

const cancerMeasures = [
  "radius", "texture", "perimeter", "area", "smoothness",
  "compactness", "concavity", "concave points", "symmetry", "fractal dimension"
]

export const breastCancerFeatures: ReadonlyArray<string> = [
  ...cancerMeasures.map((m) => `mean ${m}`),
  ...cancerMeasures.map((m) => `${m} error`),
  ...cancerMeasures.map((m) => `worst ${m}`)
]

export const wineFeatures: ReadonlyArray<string> = [
  "alcohol", "malic_acid", "ash", "alcalinity_of_ash", "magnesium", "total_phenols", "flavanoids",
  "nonflavanoid_phenols", "proanthocyanins", "color_intensity", "hue", "od280/od315_of_diluted_wines", "proline"
]

export const irisFeatures: ReadonlyArray<string> = [
  "sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"
]

export const diabetesFeatures: ReadonlyArray<string> = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]

export const digitsFeatures: ReadonlyArray<string> = Array.from({ length: 64 }, (_, k) => `pixel_${Math.floor(k / 8)}_${k % 8}`)
