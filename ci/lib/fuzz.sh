# Sourced by the bash scripts (ci/fuzz-build, ci/coverage, ci/make-seeds, ci/test-cflite-build,
# .clusterfuzzlite/build.sh): the one list of fuzz targets, the one fuzz build recipe, and the
# Swift toolchain's own LLVM tools. ci/lib/fuzzlib.py reads the same targets.txt.

# The Swift toolchain's bin folder: clang, clang++, ld.lld and llvm-cov are called from here by
# path, never as the first `clang` on PATH (Debian's afl++ installs clang-14 as /usr/bin/clang,
# whose objects do not give lld an OpenBSD PT_OPENBSD_SYSCALLS segment; a distribution llvm-cov
# may not read this toolchain's profiles).
toolchain_bin() { dirname "$(readlink -f "$(command -v swift)")"; }

# fuzz_targets [PACKAGE]: the targets of a fuzz package, from PACKAGE/targets.txt (default
# Fuzzers/), one name a line. Fuzzers/Package.swift reads the same file.
fuzz_targets() {
    local pkg=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/Fuzzers}
    sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' "$pkg/targets.txt"
}

# fuzz_coverage_scope PACKAGE: "models" when the fuzz package's manifest declares the
# ModelCoverage and ModelCoverageAFL traits (Fuzzers/, Benchmarks/FuzzCeiling/: the traits put
# libFuzzer's, or AFL++'s, coverage flags on syspin's two models, SysPinCore and SysPinReference,
# and on nothing else), else "all" (every module instrumented: ci/test-workflow's fixture).
fuzz_coverage_scope() {
    if grep -q '"ModelCoverage"' "$1/Package.swift" 2>/dev/null && grep -q '"ModelCoverageAFL"' "$1/Package.swift"; then
        echo models
    else
        echo all
    fi
}

# fuzz_swift_flags MODE [SCOPE]: the swift build flags of the fuzz build recipe.
#   address|thread            libFuzzer + that sanitizer (swiftc has no -sanitize=undefined on
#                             Linux). One --sanitize=fuzzer for SwiftPM's link
#                             step plus -sanitize=<san> for swiftc on every module. Coverage is
#                             edges in inline 8-bit counters with the PC table, without trace-cmp
#                             (-sanitize=fuzzer alone adds a callback on every comparison, which
#                             cost FuzzPintable 38 % of its exec/s for no more features: 15 s,
#                             35.7k exec/s and 4,346 features with it, 57.6k and 4,437 without;
#                             docs/fuzzing.md). SCOPE all (default): swiftc's -sanitize=fuzzer and
#                             those coverage flags on every module (a bare -Xswiftc
#                             -sanitize=fuzzer does not link; the SwiftPM-level flag alone
#                             instruments nothing). SCOPE models: only the sanitizer here; the
#                             package's ModelCoverage trait adds -sanitize=fuzzer and the coverage
#                             flags to the two models alone, so the harness around them costs
#                             libFuzzer no counters (BENCHMARKS.md: 9-43 % more exec/s for the pin and scenario
#                             targets).
#                             Each binary keeps only the code its target can reach: functions in
#                             their own sections (-function-sections), public symbols internalized
#                             at the link (-internalize-at-link: nothing outside the executable
#                             calls into it), and the toolchain's lld collecting unreferenced
#                             sections with their coverage counters (--gc-sections, which SwiftPM
#                             passes, plus -z start-stop-gc). libFuzzer clears and scans every
#                             counter of the binary on every exec (BENCHMARKS.md, docs/fuzzing.md).
#                             FuzzTargets.all is built by appends for the same reason (see there).
#   coverage                  libFuzzer + source-based coverage (ClusterFuzzLite's coverage build)
#                             of every module: the package's default traits (ModelCoverage) off.
#   afl                       ASan + trace-pc-guard edges, no libFuzzer: the objects that
#                             fuzz_link_afl links with AFL++'s runtime and driver. SCOPE models:
#                             the edges in the two models only (the ModelCoverageAFL trait, in
#                             place of the default ModelCoverage), as the libFuzzer build counts
#                             them; SCOPE all: in every module.
fuzz_swift_flags() {
    # models: ModelCoverage (the default trait) instruments the two models for libFuzzer,
    # ModelCoverageAFL for AFL++; the coverage mode turns both off.
    local cov="-Xswiftc -sanitize=fuzzer,$1 -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table" notraits=
    local afl="-Xswiftc -sanitize=address -Xswiftc -sanitize-coverage=edge,trace-pc-guard"
    # --traits names the traits to enable instead of the defaults.
    [[ ${2:-all} == models ]] && cov="-Xswiftc -sanitize=$1" notraits=--disable-default-traits \
        afl="-Xswiftc -sanitize=address --traits ModelCoverageAFL"
    case $1 in
    address | thread)
        echo "--sanitize=fuzzer $cov" \
            "-Xswiftc -Xfrontend -Xswiftc -function-sections -Xswiftc -Xfrontend -Xswiftc -internalize-at-link" \
            "-Xswiftc -use-ld=lld -Xlinker -z -Xlinker start-stop-gc" ;;
    coverage) echo "-Xswiftc -profile-generate -Xswiftc -profile-coverage-mapping --sanitize=fuzzer -Xswiftc -sanitize=fuzzer $notraits" ;;
    afl) echo "$afl" ;;
    *) echo "fuzz_swift_flags: unknown mode $1" >&2; return 1 ;;
    esac
}

# fuzz_build PACKAGE SCRATCH MODE [TARGET...] [-- SWIFT_BUILD_FLAG...]: builds the targets (all
# of PACKAGE's when none is named) in release mode into SCRATCH, then checks every binary is
# there. Build output goes to stderr; stdout gets the bin folder.
fuzz_build() {
    local pkg=$1 scratch=$2 mode=$3
    shift 3
    local targets=() extra=()
    while (($#)) && [[ $1 != -- ]]; do targets+=("$1"); shift; done
    (($#)) && shift && extra=("$@")
    local all=0
    if ((${#targets[@]} == 0)); then mapfile -t targets < <(fuzz_targets "$pkg"); all=1; fi
    local flags
    read -r -a flags <<<"$(fuzz_swift_flags "$mode" "$(fuzz_coverage_scope "$pkg")")"
    local base=(swift build -c release --scratch-path "$scratch" "${flags[@]}" "${extra[@]}")
    local bin
    bin=$(cd "$pkg" && "${base[@]}" --show-bin-path)
    if [[ $mode == afl ]]; then
        local t
        for t in "${targets[@]}"; do
            # SwiftPM's own link fails (it points main at <T>_main); every object is built.
            (cd "$pkg" && "${base[@]}" --product "$t" >"$scratch/afl-$t.log" 2>&1) || true
            fuzz_link_afl "$bin" "$t" || { tail -20 "$scratch/afl-$t.log" >&2; return 1; }
        done
    elif ((all)); then
        (cd "$pkg" && "${base[@]}") >&2
    else
        local t
        for t in "${targets[@]}"; do (cd "$pkg" && "${base[@]}" --product "$t") >&2; done
    fi
    local t
    for t in "${targets[@]}"; do
        [[ -x $bin/$t ]] || { echo "fuzz_build: $bin/$t was not built" >&2; return 1; }
    done
    echo "$bin"
}

# fuzz_link_afl BIN TARGET: links TARGET's objects (SwiftPM's link file list) with the toolchain's
# clang++, AFL++'s compiler runtime and libFuzzer-compatible driver, ASan, libelf and the Swift
# runtime into BIN/TARGET.
fuzz_link_afl() {
    local bin=$1 t=$2 tc swiftlib
    tc=$(toolchain_bin)
    swiftlib=$(dirname "$tc")/lib/swift/linux
    local list=$bin/$t.product/Objects.LinkFileList
    [[ -f $list ]] || { echo "fuzz_link_afl: no $list (the objects of $t were not built)" >&2; return 1; }
    "$tc/clang++" -fsanitize=address -o "$bin/$t" @"$list" \
        /usr/lib/afl/afl-compiler-rt.o /usr/lib/afl/libAFLDriver.a -lelf \
        -L"$swiftlib" -lswiftCore -lswift_StringProcessing -lswift_Concurrency -lswiftSwiftOnoneSupport \
        -lswift_RegexParser -Wl,-rpath,"$swiftlib" "$swiftlib/x86_64/swiftrt.o"
}
