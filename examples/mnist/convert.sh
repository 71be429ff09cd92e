#!/usr/bin/env bash
# Converts the ONNX model zoo MNIST model (mnist-8.onnx, MIT) to this example's model.json +
# model.bin with `edgec import`, and makes the data files from the raw MNIST t10k files.
# Run once from the repo root; the outputs are committed. Usage:
#   examples/mnist/convert.sh <path/to/mnist-8.onnx> <dir with test_images_u8.bin, test_labels_u8.bin>
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "usage: $0 <mnist-8.onnx> <mnist raw data dir>" >&2
  exit 2
fi
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
node scripts/build.js --if-stale
node bin/edgec.js import "$1" -o examples/mnist/model.json
node --import tsx examples/mnist/make-data.ts "$2"
