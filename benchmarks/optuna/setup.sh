#!/usr/bin/env bash
# The Python environments for `npm run bench -- samplers --optuna`: Optuna's newest release (with
# PyTorch, which its GPSampler needs) in .venv-bench/latest, and Optuna 3.1 (the figures issue 3
# quoted) in .venv-bench/v3.1. Both folders are git-ignored. PyTorch from PyPI is large (several GB).
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ ! -x .venv-bench/latest/bin/python ]; then python3 -m venv .venv-bench/latest; fi
.venv-bench/latest/bin/pip install --quiet --upgrade optuna scipy torch greenlet
if [ ! -x .venv-bench/v3.1/bin/python ]; then python3 -m venv .venv-bench/v3.1; fi
.venv-bench/v3.1/bin/pip install --quiet "optuna==3.1.*"
.venv-bench/latest/bin/python -c "import optuna; print('latest:', optuna.__version__)"
.venv-bench/v3.1/bin/python -c "import optuna; print('v3.1:', optuna.__version__)"
