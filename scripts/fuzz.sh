#!/usr/bin/env bash
# Fuzzes gridcast's parsers with libFuzzer, one target at a time, for a bounded time each.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     # default 60 s per target, every target
#
# Targets (fuzz/Sources): FuzzConfig (YAML config loader), FuzzGroupsCSV (groups_file), FuzzFrontMatter (library
# notices), FuzzCron (cron, quiet hours, durations, rates, selectors), FuzzNoticeBody (POST /v1/notices bodies).
# Each is seeded from the bundled config and library, the bad-input corpus (Tests/BadInputTests/Corpus) and its
# own regression inputs (Corpus/fuzz-regressions/TARGET), which are first replayed once. The corpus libFuzzer grows
# is kept in .build-fuzz/corpus/TARGET between runs; crashing inputs land in .build-fuzz/artifacts/TARGET.
# Exits 1 when any target crashed, leaked, ran out of memory or timed out on an input.
set -euo pipefail
export SWIFT_BACKTRACE=enable=no  # libFuzzer and ASan print the stack; the Swift backtracer only gets in their way
cd "$(dirname "$0")/.."
root=$(pwd)
export LSAN_OPTIONS="suppressions=$root/fuzz/lsan.supp:print_suppressions=0"
seconds=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(FuzzConfig FuzzGroupsCSV FuzzFrontMatter FuzzCron FuzzNoticeBody)
fi
scratch="$root/.build-fuzz"
corpus="$root/Tests/BadInputTests/Corpus"

echo "== building the fuzz targets (release, -sanitize=fuzzer,address)"
(cd fuzz && swift build -c release --scratch-path "$scratch" \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library 2>&1 | grep -v "__asan_extra_spill_area" )
bin="$scratch/release"

# Seed files for a target, copied into one flat directory (libFuzzer takes directories).
seed() {
    local target=$1 dir=$2
    rm -rf "$dir"
    mkdir -p "$dir"
    local files=()
    case "$target" in
        FuzzConfig) files=(config/*.yaml "$corpus"/config/* "$corpus"/schedules/*) ;;
        FuzzGroupsCSV) files=(config/*.csv "$corpus"/csv/* "$corpus"/support/*.csv) ;;
        FuzzFrontMatter) files=(config/notices/*.md config/demo-notice.md "$corpus"/notices/* "$corpus"/support/library/*) ;;
        FuzzCron) files=(fuzz/Seeds/FuzzCron/*) ;;
        FuzzNoticeBody) files=("$corpus"/api/*) ;;
    esac
    files+=("$corpus"/fuzz-regressions/"$target"/*)
    local n=0
    for file in "${files[@]}"; do
        [ -f "$file" ] || continue
        n=$((n + 1))
        cp "$file" "$dir/seed-$n-$(basename "$file")"
    done
}

status=0
summary=()
for target in "${targets[@]}"; do
    work="$scratch/corpus/$target"
    seeds="$scratch/seeds/$target"
    artifacts="$scratch/artifacts/$target"
    log="$scratch/logs/$target.log"
    mkdir -p "$work" "$artifacts" "$(dirname "$log")"
    seed "$target" "$seeds"
    regressions=("$corpus"/fuzz-regressions/"$target"/*)
    if [ -f "${regressions[0]}" ]; then
        echo "== $target: replaying ${#regressions[@]} regression input(s)"
        if ! "$bin/$target" -runs=1 "${regressions[@]}" >"$log.replay" 2>&1; then
            echo "!! $target crashed on a regression input; see $log.replay"
            status=1
        fi
    fi
    dict=()
    [ -f "fuzz/Dictionaries/$target.dict" ] && dict=(-dict="fuzz/Dictionaries/$target.dict")
    echo "== $target: fuzzing for ${seconds}s"
    started=$(date +%s)
    set +e
    "$bin/$target" "${dict[@]}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
        -print_final_stats=1 -artifact_prefix="$artifacts/" "$work" "$seeds" >"$log" 2>&1
    code=$?
    set -e
    elapsed=$(($(date +%s) - started))
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || echo "?")
    last=$(grep -E '^#[0-9]+' "$log" | tail -1)
    cov=$(echo "$last" | grep -o 'cov: [0-9]*' | grep -o '[0-9]*' || echo "?")
    ft=$(echo "$last" | grep -o 'ft: [0-9]*' | grep -o '[0-9]*' || echo "?")
    units=$(echo "$last" | grep -o 'corp: [0-9]*' | grep -o '[0-9]*' || echo "?")
    crashes=$(find "$artifacts" -type f -newer "$seeds" | wc -l)
    line="$target: ${elapsed}s, ${execs} execs, cov ${cov}, ft ${ft}, corpus ${units}, exit ${code}, new artifacts ${crashes}"
    echo "   $line"
    summary+=("$line")
    if [ "$code" -ne 0 ]; then
        echo "!! $target failed; the input is in $artifacts, the log in $log:"
        grep -E "ERROR|SUMMARY|Fatal error|Test unit written" "$log" | head -5 || true
        status=1
    fi
done
echo "== summary (${seconds}s per target)"
printf '   %s\n' "${summary[@]}"
exit $status
