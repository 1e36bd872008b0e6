#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz build for syspin: every libFuzzer target of the Fuzzers/ package,
# built the way OSS-Fuzz builds Swift projects (swift-nio, swift-protobuf: `swift build -c release`
# with the sanitizer flags precompile_swift exports), plus what ClusterFuzzLite picks up next to
# each binary:
#   $OUT/<Target>                  the fuzzer (Swift stdlib linked statically)
#   $OUT/<Target>_seed_corpus.zip  Corpus/<Target>/, its seeds/ and regressions/ (flat)
#   $OUT/<Target>.dict             Fuzzers/dicts/<Target>.dict, when there is one
#   $OUT/lib/                      shared libraries the runner image lacks (libelf), found
#                                  through the binaries' $ORIGIN/lib runpath
#
# In the base-builder-swift image `compile` runs it from WORKDIR $SRC/syspin. It also runs without
# Docker (ci/test-cflite-build does that):
#   SRC=/tmp/src OUT=/tmp/out WORK=/tmp/work [SANITIZER=address] .clusterfuzzlite/build.sh
# The repository is $SYSPIN_ROOT, else $SRC/syspin, else the folder this script sits in.
set -euo pipefail

: "${SRC:?set SRC}" "${OUT:?set OUT}" "${WORK:?set WORK}"
SANITIZER=${SANITIZER:-address}

if [[ -n ${SYSPIN_ROOT:-} ]]; then
    root=$SYSPIN_ROOT
elif [[ -f $SRC/syspin/Fuzzers/Package.swift ]]; then
    root=$SRC/syspin
else
    root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
fi
[[ -f $root/Fuzzers/Package.swift ]] || { echo "build.sh: no Fuzzers/Package.swift under $root" >&2; exit 1; }
root=$(cd "$root" && pwd -P)

# In the OSS-Fuzz image precompile_swift copies the Swift-aware llvm-symbolizer into $OUT and
# exports $SWIFTFLAGS. Its flags are not used as they are (see fuzz_swift_flags in ci/lib/fuzz.sh:
# they link without instrumenting, or do not link); the build is ci/lib/fuzz.sh's recipe, the one
# ci/fuzz-build uses, with precompile_swift's static stdlib and -Xcc/-Xcxx flags.
if command -v precompile_swift >/dev/null 2>&1; then
    # shellcheck disable=SC1091
    . precompile_swift
fi

# shellcheck source=../ci/lib/fuzz.sh
. "$root/ci/lib/fuzz.sh"
extra=(-Xswiftc -static-stdlib --static-swift-stdlib -Xlinker -rpath -Xlinker '$ORIGIN/lib')
case $SANITIZER in
coverage) ;;
address | thread)
    for f in ${CFLAGS:-}; do extra+=("-Xcc=$f"); done
    for f in ${CXXFLAGS:-}; do extra+=("-Xcxx=$f"); done
    ;;
undefined)
    # swiftc has no -sanitize=undefined for Linux targets ("unsupported option"): say so before
    # a long build fails on it.
    echo "build.sh: SANITIZER=undefined is not supported: swiftc has no -sanitize=undefined on Linux (use address, thread or coverage)" >&2
    exit 1
    ;;
*)
    echo "build.sh: unsupported SANITIZER=$SANITIZER (address, thread, coverage)" >&2
    exit 1
    ;;
esac

mapfile -t targets < <(fuzz_targets "$root/Fuzzers")
echo "build.sh: building ${targets[*]} (sanitizer $SANITIZER) from $root"
mkdir -p "$OUT" "$WORK/syspin-fuzz-$SANITIZER"
bin=$(fuzz_build "$root/Fuzzers" "$WORK/syspin-fuzz-$SANITIZER" "$SANITIZER" -- "${extra[@]}")

# Zips FILES... flat (by base name) into ZIP; python3's zipfile when zip is not installed.
make_zip() {
    local zipfile=$1
    shift
    rm -f "$zipfile"
    if command -v zip >/dev/null 2>&1; then
        zip -q -j -X "$zipfile" "$@"
    else
        python3 - "$zipfile" "$@" <<'EOF'
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    for path in sys.argv[2:]:
        z.write(path, os.path.basename(path))
EOF
    fi
}

for t in "${targets[@]}"; do
    [[ -x $bin/$t ]] || { echo "build.sh: $bin/$t was not built" >&2; exit 1; }
    cp "$bin/$t" "$OUT/$t"

    # Seeds and regressions, one entry per name (a regression may also be a seed).
    declare -A seen=()
    files=()
    for dir in "$root/Corpus/$t" "$root/Corpus/$t/seeds" "$root/Corpus/$t/regressions"; do
        [[ -d $dir ]] || continue
        while IFS= read -r -d '' f; do
            name=${f##*/}
            [[ -n ${seen[$name]:-} ]] && continue
            seen[$name]=1
            files+=("$f")
        done < <(find "$dir" -maxdepth 1 -type f ! -name '.*' -print0 | sort -z)
    done
    unset seen
    if ((${#files[@]})); then
        make_zip "$OUT/${t}_seed_corpus.zip" "${files[@]}"
    else
        echo "build.sh: warning: no seeds for $t" >&2
    fi

    if [[ -f $root/Fuzzers/dicts/$t.dict ]]; then
        cp "$root/Fuzzers/dicts/$t.dict" "$OUT/$t.dict"
    fi
    echo "build.sh: $OUT/$t (${#files[@]} seeds$([[ -f $OUT/$t.dict ]] && echo ", dict"))"
done

# Shared libraries outside the base system (libelf, for FuzzELF's comparison with gelf_getphdr):
# the runner image does not have them, so they travel in $OUT/lib.
mkdir -p "$OUT/lib"
for t in "${targets[@]}"; do
    ldd "$OUT/$t" | awk '$2 == "=>" && $3 ~ /^\// {print $3}'
done | sort -u | while read -r lib; do
    case ${lib##*/} in
    libc.so* | libm.so* | libdl.so* | librt.so* | libpthread.so* | libresolv.so* | libgcc_s.so* | \
        libstdc++.so* | libz.so* | ld-linux*) ;;
    *) cp -L "$lib" "$OUT/lib/" && echo "build.sh: bundled $lib in $OUT/lib" ;;
    esac
done
echo "build.sh: done"
