#!/usr/bin/env python3
"""Collects one bench/run into results/: JSON of every figure and a short Markdown table.
Usage: report.py WORK_DIR RESULTS_DIR [NAME] (NAME.json and NAME.md; default latest). WORK_DIR holds the raw files bench/run wrote:
  meta.json; <size>/<op>-c<conc>.wrk (wrk output with a BENCH_JSON line);
  <size>/<op>-c<conc>.rss (RSS samples in kB); <size>/pg-<op>-c<conc>.txt (pgbench output);
  <size>/statements.tsv (op, requests, statements); <size>/idle.rss and <size>/mem-<op>.{wrk,rss}
  (the memory points at many connections)."""
import glob, json, os, re, sys

work, results = sys.argv[1], sys.argv[2]
name = sys.argv[3] if len(sys.argv) > 3 else "latest"
meta = json.load(open(os.path.join(work, "meta.json")))
sizes = meta["sizes"]
concs = meta["concurrency"]
ops = ["Q1", "Q2", "Q3", "Q4", "M1"]
memory_ops = ["Q2", "Q2_large", "Q4"]

def wrk(path):
    for line in open(path):
        if line.startswith("BENCH_JSON "):
            return json.loads(line[len("BENCH_JSON "):])
    return None

def pgbench(path):
    if not os.path.exists(path):
        return None
    text = open(path).read()
    tps = re.search(r"tps = ([0-9.]+)", text)
    lat = re.search(r"latency average = ([0-9.]+) ms", text)
    return {"tps": float(tps.group(1)) if tps else None,
            "latency_avg_ms": float(lat.group(1)) if lat else None}

def rss(path):
    if not os.path.exists(path):
        return None
    vals = [int(x) for x in open(path).read().split() if x.isdigit()]
    return round(max(vals) / 1024, 1) if vals else None

out = {"meta": meta, "sizes": {}}
for size in sizes:
    d = os.path.join(work, str(size))
    stm = {}
    path = os.path.join(d, "statements.tsv")
    if os.path.exists(path):
        for line in open(path):
            op, n, s = line.split()
            stm[op] = round(int(s) / int(n), 2) if int(n) else None
    seed = {}
    if os.path.exists(os.path.join(d, "seed.json")):
        seed = json.load(open(os.path.join(d, "seed.json")))
    per = {"data": seed, "statements_per_request": stm, "ops": {}}
    for op in ops:
        per["ops"][op] = {}
        for c in concs:
            w = wrk(os.path.join(d, f"{op}-c{c}.wrk")) if os.path.exists(os.path.join(d, f"{op}-c{c}.wrk")) else None
            pg = pgbench(os.path.join(d, f"pg-{op}-c{c}.txt"))
            entry = {"graphql": w, "rss_mb": rss(os.path.join(d, f"{op}-c{c}.rss")), "pgbench": pg}
            if w and pg and pg["tps"]:
                entry["ratio_to_pgbench"] = round(w["rps"] / pg["tps"], 3)
            per["ops"][op][str(c)] = entry
    memory = {"idle_rss_mb": rss(os.path.join(d, "idle.rss")), "ops": {}}
    for op in memory_ops:
        path = os.path.join(d, f"mem-{op}.wrk")
        if os.path.exists(path):
            memory["ops"][op] = {"graphql": wrk(path), "rss_mb": rss(os.path.join(d, f"mem-{op}.rss"))}
    per["memory"] = memory
    out["sizes"][str(size)] = per

# Scale: throughput at the largest size over the smallest.
if len(sizes) >= 2:
    small, large = str(min(sizes)), str(max(sizes))
    scale = {}
    for op in ops:
        for c in concs:
            a = out["sizes"][small]["ops"][op][str(c)]["graphql"]
            b = out["sizes"][large]["ops"][op][str(c)]["graphql"]
            if a and b and a["rps"]:
                scale[f"{op}@c{c}"] = round(b["rps"] / a["rps"], 3)
    out["scale_large_over_small"] = scale

os.makedirs(results, exist_ok=True)
stamp = meta["started"].replace(":", "").replace("-", "")
with open(os.path.join(results, name + ".json"), "w") as f:
    json.dump(out, f, indent=2, ensure_ascii=False)

lines = [f"# bench/run {meta['started']} ({meta['command']})", "",
         f"machine: {meta['machine']}; each point {meta['duration_s']} s of wrk on loopback; "
         "ratio = GraphQL req/s ÷ pgbench tps of the same result as one SQL statement, "
         "same concurrency, same run.", ""]
for size in sizes:
    per = out["sizes"][str(size)]
    data = per["data"]
    lines.append(f"## {size} units ({data.get('findings', '?')} findings, {data.get('permits', '?')} permits)")
    lines.append("")
    lines.append("| op | c | req/s | p50 ms | p99 ms | p99/p50 | errors | pgbench tps | ratio | RSS MB | stmts/req |")
    lines.append("|---|---|---|---|---|---|---|---|---|---|---|")
    for op in ops:
        for c in concs:
            e = per["ops"][op][str(c)]
            w = e["graphql"]
            if not w:
                lines.append(f"| {op} | {c} | (no run) | | | | | | | | |")
                continue
            pg = e["pgbench"]
            ratio = e.get("ratio_to_pgbench")
            lines.append("| {} | {} | {:.0f} | {:.2f} | {:.2f} | {:.1f} | {} | {} | {} | {} | {} |".format(
                op, c, w["rps"], w["p50_ms"], w["p99_ms"],
                w["p99_ms"] / w["p50_ms"] if w["p50_ms"] else 0, w["errors"] + w["socket_errors"],
                f"{pg['tps']:.0f}" if pg and pg["tps"] else "–",
                f"{ratio:.2f}" if ratio is not None else "–",
                e["rss_mb"] if e["rss_mb"] is not None else "–",
                per["statements_per_request"].get(op, "–")))
    memory = per["memory"]
    if memory["ops"]:
        lines.append("")
        lines.append(f"memory at {meta.get('memory_connections', 400)} connections "
                     f"(idle RSS {memory['idle_rss_mb']} MB):")
        lines.append("")
        lines.append("| op | req/s | p50 ms | p99 ms | errors | peak RSS MB |")
        lines.append("|---|---|---|---|---|---|")
        for op, e in memory["ops"].items():
            w = e["graphql"]
            if not w:
                lines.append(f"| {op} | (no run) | | | | {e['rss_mb']} |")
                continue
            lines.append("| {} | {:.0f} | {:.2f} | {:.2f} | {} | {} |".format(
                op, w["rps"], w["p50_ms"], w["p99_ms"], w["errors"] + w["socket_errors"], e["rss_mb"]))
    small = {k: v for k, v in per["statements_per_request"].items() if k.endswith("_small")}
    if small:
        lines.append("")
        lines.append("statements/request at page size 10: " + ", ".join(
            f"{k[:-6]} {v}" for k, v in sorted(small.items())))
    lines.append("")
if "scale_large_over_small" in out:
    lines.append(f"## scale: req/s at {max(sizes)} units ÷ req/s at {min(sizes)} units")
    lines.append("")
    lines.append(", ".join(f"{k} {v:.2f}" for k, v in out["scale_large_over_small"].items()))
    lines.append("")
table = "\n".join(lines)
with open(os.path.join(results, name + ".md"), "w") as f:
    f.write(table)
print(table)
