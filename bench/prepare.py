#!/usr/bin/env python3
"""Request bodies for bench/run: one JSON body a line per workload, from the keys the script
read out of the seeded database (TSV on stdin: kind, value...). Usage: prepare.py OPS_DIR OUT_DIR."""
import base64, json, os, sys

ops_dir, out_dir = sys.argv[1], sys.argv[2]
doc = {name: open(os.path.join(ops_dir, name + ".graphql")).read()
       for name in ("Q1", "Q2", "Q3", "Q4", "M1")}
rows = {}
for line in sys.stdin:
    parts = line.rstrip("\n").split("\t")
    rows.setdefault(parts[0], []).append(parts[1:])

def gid(kind, n):
    return base64.urlsafe_b64encode(f"{kind}:{n}".encode()).decode().rstrip("=")

def body(op, variables, **extra):
    b = {"query": doc[op], "operationName": op, "variables": variables}
    return json.dumps(b, ensure_ascii=False)

bodies = {
    "Q1": [body("Q1", {"number": r[0]}) for r in rows.get("permit", [])],
    "Q2": [body("Q2", {"district": r[0]}) for r in rows.get("district", [])],
    "Q3": [body("Q3", {})],
    "Q4": [body("Q4", {"code": r[0], "from": r[1], "to": r[2]}) for r in rows.get("code_month", [])],
    "M1": [body("M1", {"key": "__KEY__", "input": {
        "inspectionId": gid("Inspection", int(r[0])), "permitId": gid("Permit", int(r[1])),
        "code": r[2], "severity": "GENERAL",
        "description": "bench: recorded by the load test"}}) for r in rows.get("record", [])],
    # Page-size variants: statements per request must not grow with the page.
    "Q2_small": [body("Q2", {"district": r[0], "first": 10}) for r in rows.get("district", [])],
    # The heavy read of the memory points: pages of 100 permits with their findings.
    "Q2_large": [body("Q2", {"district": r[0], "first": 100}) for r in rows.get("district", [])],
    "Q4_small": [body("Q4", {"code": r[0], "from": r[1], "to": r[2], "first": 10})
                 for r in rows.get("code_month", [])],
}
for name, lines in bodies.items():
    if not lines:
        sys.exit(f"prepare.py: no keys for {name} (is the database seeded?)")
    with open(os.path.join(out_dir, name + ".jsonl"), "w") as f:
        f.write("\n".join(lines) + "\n")
