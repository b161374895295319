#!/usr/bin/env bash
# Installs MLflow (from PyPI) into a virtual environment for the MLflow tracker's tests:
# .venv/mlflow under the repository (git-ignored). Idempotent: when the venv already has the
# pinned MLflow it only prints the path to its `mlflow` command, in well under a second.
#
#   scripts/mlflow-venv.sh            # prints the path of the mlflow executable
#   MLFLOW_VENV=/other/dir scripts/mlflow-venv.sh
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION="${MLFLOW_VERSION:-3.17.2}"
VENV="${MLFLOW_VENV:-$PWD/.venv/mlflow}"
PYTHON="${PYTHON:-python3}"
stamp="$VENV/.tunekit-mlflow-$VERSION"
if [ -x "$VENV/bin/mlflow" ] && [ -f "$stamp" ]; then
  echo "$VENV/bin/mlflow"
  exit 0
fi
"$PYTHON" -m venv "$VENV" >&2
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
# The server only: mlflow-skinny lacks `mlflow server`, the full package brings it.
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "mlflow==$VERSION" >&2
"$VENV/bin/mlflow" --version >&2
touch "$stamp"
echo "$VENV/bin/mlflow"
