#!/usr/bin/env python3
"""Compares `tcpdoctor analyze --json CAPTURE` with a make_corpus.sh ground truth, per 4-tuple in order
(ports are reused): handshake, closer, reset_by, cause, family and Zeek's conn_state.

    bench/truth.py CAPTURE TRUTH.jsonl TCPDOCTOR
"""
import collections, json, subprocess, sys

cap, truth, binary = sys.argv[1:4]
out = subprocess.run([binary, "analyze", "--json", cap], capture_output=True, text=True, check=True).stdout
got = collections.defaultdict(list)
for line in out.splitlines():
    v = json.loads(line)
    got[(v["client"], v["server"])].append(v)
for k in got:
    got[k].sort(key=lambda v: v["start"])
want = collections.defaultdict(list)
for line in open(truth):
    t = json.loads(line)
    want[(t["client"], t["server"])].append(t)
ok, diffs = 0, collections.Counter()
for key, ts in want.items():
    for i, t in enumerate(ts):
        gs = got.get(key, [])
        if i >= len(gs):
            diffs["missing"] += 1
            continue
        g = gs[i]
        d = [f for f in ["handshake", "closer", "reset_by", "cause", "family"] if g[f] != t[f]]
        if g["zeek_conn_state"] != t["zeek"]:
            d.append("zeek")
        if d:
            diffs[",".join(d)] += 1
            print("differs:", json.dumps(t), json.dumps({f: g[f] for f in ["handshake", "closer", "reset_by", "cause", "zeek_conn_state"]}))
        else:
            ok += 1
total = sum(len(v) for v in want.values())
extra = sum(len(v) for v in got.values()) - total
print(f"{ok} of {total} agree; {extra} connections beyond the truth; differences: {dict(diffs)}")
