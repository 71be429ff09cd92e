#!/usr/bin/env bash
# ARM boards via Node (issue 16, item 5): runs `edgec run` under Debian's arm64 and armhf nodejs in
# qemu user-mode emulation and compares the output .npy bytes with the amd64 (host) run.
#
# Not part of `npm test`: it downloads. Needs a Debian/Ubuntu host with apt-get, dpkg-deb and
# deb.debian.org reachable; installs `qemu-user-static` with apt-get if qemu-aarch64-static or
# qemu-arm-static is missing (root needed for that step only). The host's dpkg architectures are
# never changed: a private apt configuration (Debian trixie, whose nodejs is 20.19; bookworm's is
# 18, below edgec's Node >= 20.15) resolves and downloads nodejs and its shared libraries for each
# arch, and `dpkg-deb -x` unpacks them into a private sysroot that `qemu-*-static -L` runs from.
# Everything lands in node_modules/.cache/edgec-arm (delete it to start over).
#
# Models: examples/mnist (float and --quantize int8) and examples/branches/gated.json (float and
# int8), all compiled once on the host; runtime builds scalar and simd. Exactness target: every
# output byte identical to the amd64 run. Usage: bash scripts/arm-node.sh   (from the repo root,
# after `npm ci`, which builds dist/ and build/*.wasm)
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE=node_modules/.cache/edgec-arm
SUITE=${EDGEC_ARM_SUITE:-trixie}
MIRROR=${EDGEC_ARM_MIRROR:-http://deb.debian.org/debian}
ARCHES=(arm64 armhf)
BUILDS=(scalar simd)
declare -A QEMU=([arm64]=qemu-aarch64-static [armhf]=qemu-arm-static)

if ! command -v qemu-aarch64-static >/dev/null || ! command -v qemu-arm-static >/dev/null; then
  echo "arm-node: installing qemu-user-static with apt-get" >&2
  apt-get install -y -q qemu-user-static >&2
fi

# Private apt state: own sources list, lists, cache and an empty dpkg status (nothing "installed").
APT="$PWD/$CACHE/apt"
mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial" "$APT/preferences.d"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR $SUITE main" >"$APT/sources.list"
touch "$APT/status"
apt_opts() { # $1: the arch apt treats as native
  echo -o Dir::Etc::sourcelist="$APT/sources.list" -o Dir::Etc::sourceparts=- \
    -o Dir::Etc::preferencesparts="$APT/preferences.d" -o Dir::State::lists="$APT/lists" \
    -o Dir::State::status="$APT/status" -o Dir::Cache="$APT/cache" \
    -o APT::Architecture="$1" -o APT::Architectures::="$1" -o APT::Sandbox::User=root
}
if [ -z "$(ls "$APT/lists" | grep _Packages || true)" ]; then
  # shellcheck disable=SC2046
  apt-get -q $(apt_opts arm64) -o APT::Architectures::=armhf update >&2
fi

for arch in "${ARCHES[@]}"; do
  root="$CACHE/root-$arch"
  [ -x "$root/usr/bin/node" ] && continue
  debs="$PWD/$CACHE/debs-$arch"
  mkdir -p "$debs" "$root"
  # nodejs and everything it depends on (no recommends), as real packages of this arch.
  # shellcheck disable=SC2046
  pkgs=$(apt-cache $(apt_opts "$arch") depends --recurse --no-recommends --no-suggests --no-conflicts \
    --no-breaks --no-replaces --no-enhances nodejs | grep -v '^ ' | grep -v '^<' | grep -v ':' | sort -u)
  echo "arm-node: $arch: downloading" $pkgs >&2
  # shellcheck disable=SC2046,SC2086
  (cd "$debs" && apt-get -q $(apt_opts "$arch") download $pkgs >&2)
  for deb in "$debs"/*.deb; do dpkg-deb -x "$deb" "$root"; done
  # merged /usr: the loader is asked for as /lib/ld-linux-*.so.*; base-files makes these links on a real system
  for d in lib bin sbin; do [ -e "$root/$d" ] || ln -s "usr/$d" "$root/$d"; done
done

WORK="$CACHE/work"
mkdir -p "$WORK"
edgec() { node bin/edgec.js "$@" >>"$WORK/compile.log" 2>&1 || { cat "$WORK/compile.log" >&2; exit 1; }; }
: >"$WORK/compile.log"
edgec compile examples/mnist/model.json -o "$WORK/mnist-f32.edgec"
edgec compile examples/mnist/model.json -o "$WORK/mnist-int8.edgec" --quantize int8 \
  --calibration examples/branches/calib.npy
edgec compile examples/branches/gated.json -o "$WORK/gated-f32.edgec"
edgec compile examples/branches/gated.json -o "$WORK/gated-int8.edgec" --quantize int8 \
  --calibration examples/branches/calib.npy
MODELS=(mnist-f32 mnist-int8 gated-f32 gated-int8)
INPUT=examples/mnist/images.npy

run_on() { # $1 arch (amd64 = host), $2 model, $3 build -> output path; non-zero if the run failed
  local out="$WORK/$2.$3.$1.npy" node=(node)
  if [ "$1" != amd64 ]; then
    node=("${QEMU[$1]}" -L "$CACHE/root-$1" "$CACHE/root-$1/usr/bin/node")
  fi
  rm -f "$out"
  "${node[@]}" bin/edgec.js run "$WORK/$2.edgec" --input "$INPUT" --output "$out" --build "$3" \
    >"$WORK/$2.$3.$1.log" 2>&1
}

echo "host node $(node --version) (amd64)"
for arch in "${ARCHES[@]}"; do
  echo "$arch node $("${QEMU[$arch]}" -L "$CACHE/root-$arch" "$CACHE/root-$arch/usr/bin/node" --version)" \
    "(Debian $SUITE, ${QEMU[$arch]} $("${QEMU[$arch]}" --version | head -1 | awk '{print $3}'))"
done
echo "input $INPUT; cmp of each output .npy against the amd64 run of the same build"
printf '%-12s %-7s %-7s %-12s %s\n' model build arch bytes result
fail=0
for model in "${MODELS[@]}"; do
  for build in "${BUILDS[@]}"; do
    run_on amd64 "$model" "$build"
    ref="$WORK/$model.$build.amd64.npy"
    for arch in "${ARCHES[@]}"; do
      out="$WORK/$model.$build.$arch.npy"
      if ! run_on "$arch" "$model" "$build"; then
        result="run failed: $(tail -1 "$WORK/$model.$build.$arch.log")"
        fail=1
      elif cmp -s "$ref" "$out"; then
        result=identical
      else
        result="DIFFERENT ($(cmp "$ref" "$out" | head -1))"
        fail=1
      fi
      printf '%-12s %-7s %-7s %-12s %s\n' "$model" "$build" "$arch" "$(stat -c %s "$ref")" "$result"
    done
  done
done
exit $fail
