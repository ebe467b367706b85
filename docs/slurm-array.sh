#!/usr/bin/env bash
# Runs `cargo xtask verify-lemmas` on a Slurm cluster: a job array with one shard of the seeds per
# task, then a job that merges the shards into the results and reports (byte-identical to a single
# process running every seed). See docs/cluster.md.
#
# From the workspace root, on a login node (the folder must be on a file system all nodes share):
#
#   docs/slurm-array.sh                                   # paper profile, 16 shards
#   N=32 PROFILE=paper EXTRA="--config big.json" docs/slurm-array.sh
#
# Settings (environment variables, passed on to the jobs):
#   N        number of shards (array tasks), default 16
#   PROFILE  verify-lemmas profile, default paper
#   EXTRA    further verify-lemmas flags, the same for every shard (e.g. --config FILE, --seeds 800)
#   RUN_DIR  where the shards keep their checkpoints, default runs/<profile>
#   OUT      where the merge writes the results and reports, default docs
#   XTASK    the runner binary, default target/release/xtask (built by the submit step)
#
# Every task runs with --resume, so a requeued or preempted task continues from its checkpoint;
# rerunning this script after a failure resubmits everything and finished seeds are not redone.
#SBATCH --job-name=overparam
#SBATCH --cpus-per-task=8
#SBATCH --mem=32G
#SBATCH --time=24:00:00
#SBATCH --requeue
set -euo pipefail

N="${N:-16}"
PROFILE="${PROFILE:-paper}"
EXTRA="${EXTRA:-}"
RUN_DIR="${RUN_DIR:-runs/$PROFILE}"
OUT="${OUT:-docs}"
XTASK="${XTASK:-target/release/xtask}"
export N PROFILE EXTRA RUN_DIR OUT

case "${1:-submit}" in
    submit)
        # Build once here; the jobs run the binary from the shared folder.
        cargo build --release --package xtask
        mkdir -p "$RUN_DIR" slurm-logs
        array=$(sbatch --parsable --array="0-$((N - 1))" --output="slurm-logs/%x-%A_%a.out" "$0" shard)
        sbatch --dependency="afterok:${array%%;*}" --output="slurm-logs/%x-merge-%j.out" "$0" merge
        echo "submitted shards (job ${array%%;*}) and their merge; results will be in $OUT"
        ;;
    shard)
        # shellcheck disable=SC2086 # EXTRA holds several flags
        "$XTASK" verify-lemmas --profile "$PROFILE" $EXTRA --shard "$SLURM_ARRAY_TASK_ID/$N" --resume \
            --threads "${SLURM_CPUS_PER_TASK:-1}" --out "$RUN_DIR"
        ;;
    merge)
        # The merge computes the seeds of the bisection widths itself (they depend on all shards).
        "$XTASK" merge "$RUN_DIR" --resume --threads "${SLURM_CPUS_PER_TASK:-1}" --out "$OUT"
        ;;
    *)
        echo "usage: $0 [submit|shard|merge]" >&2
        exit 2
        ;;
esac
