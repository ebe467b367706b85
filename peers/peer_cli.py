"""The command line the peers share (``numpy_peer.py``, ``jax_peer.py``): a task and its flags in,
one JSON object on stdout out (the last line, which ``cargo xtask bench-peers`` reads)."""
import argparse
import json
import sys


def main(doc, tasks, about, rk4_step=False):
    """Runs the task named on the command line and prints its result.

    ``tasks`` maps each task's name to a function of the parsed flags that returns a dict; the task
    ``info`` computes nothing. Every output carries ``about()`` (the peer's name and version, and
    what it runs on) after the task's own keys. ``rk4_step`` adds the flag ``--h`` (the RK4 step of
    the ``flow`` task).
    """
    p = argparse.ArgumentParser(description=doc.splitlines()[0])
    p.add_argument("task", choices=[*tasks, "info"])
    p.add_argument("--inputs", required=True, help="folder with the harness's .npy files")
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--eta", type=float, default=0.8)
    if rk4_step:
        p.add_argument("--h", type=float, default=0.01)
    p.add_argument("--m", type=int, default=10000)
    p.add_argument("--seeds", type=int, default=16)
    p.add_argument("--master-seed", type=int, default=0)
    args = p.parse_args()
    out = tasks[args.task](args) if args.task in tasks else {}
    out.update(about())
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
