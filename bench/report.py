#!/usr/bin/env python3
"""Collects one bench/run into results/: JSON of every figure and a short Markdown table.
Usage: report.py WORK_DIR RESULTS_DIR [NAME] (NAME.json and NAME.md; default latest). WORK_DIR holds the raw files bench/run wrote:
  meta.json; <size>/<op>-c<conc>.wrk (wrk output with a BENCH_JSON line);
  <size>/<op>-c<conc>.rss (RSS samples in kB); <size>/<op>-c<conc>.cpu (server CPU ticks before
  and after); <size>/pg-<op>-c<conc>-{prepared,simple}.txt (pgbench output);
  <size>/statements.tsv (op, requests, statements); <size>/idle.rss and <size>/mem-<op>.{wrk,rss}
  (the memory points at many connections); <size>/intake-readings-c<clients>.json,
  <size>/intake-hj212-k<connections>.json (bench/intake.py's line with db_rows_added),
  <size>/pg-readings-c<clients>.txt and <size>/copy.json (the database's own rate)."""
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

def cpu_ms_per_request(path, requests):
    """Server CPU (ms) per request: the clock ticks before and after the point, over its requests."""
    if not os.path.exists(path) or not requests:
        return None
    ticks = [int(float(line)) for line in open(path) if line.strip()]
    if len(ticks) != 2:
        return None
    return round((ticks[1] - ticks[0]) / meta.get("clock_ticks_per_s", 100) * 1000 / requests, 3)

def rss(path):
    if not os.path.exists(path):
        return None
    vals = [int(x) for x in open(path).read().split() if x.isdigit()]
    return round(max(vals) / 1024, 1) if vals else None

def load(path):
    return json.load(open(path)) if os.path.exists(path) else None

def intake(d):
    """recordReadings and HJ 212 points, and the database's rate for the same rows."""
    batch = meta.get("intake_batch", 1000)
    readings, hj212, insert = {}, {}, {}
    for c in meta.get("intake_clients", []):
        readings[str(c)] = load(os.path.join(d, f"intake-readings-c{c}.json"))
        pg = pgbench(os.path.join(d, f"pg-readings-c{c}.txt"))
        if pg and pg["tps"]:
            added = re.search(r"rows_added (\d+)", open(os.path.join(d, f"pg-readings-c{c}.txt")).read())
            pg = {"statements_per_s": pg["tps"], "rows_per_s": round(pg["tps"] * batch),
                  "latency_avg_ms": pg["latency_avg_ms"],
                  "db_rows_added": int(added.group(1)) if added else None}
            if readings[str(c)] and readings[str(c)]["readings_per_s"]:
                readings[str(c)]["ratio_to_insert"] = round(
                    readings[str(c)]["readings_per_s"] / pg["rows_per_s"], 3)
        insert[str(c)] = pg
    narrow = meta.get("intake_narrow")
    clients = meta.get("intake_clients", [])
    if narrow and clients:
        readings[f"{clients[0]}, {narrow} series"] = load(
            os.path.join(d, f"intake-readings-c{clients[0]}-s{narrow}.json"))
    for k in meta.get("hj212_connections", []):
        hj212[str(k)] = load(os.path.join(d, f"intake-hj212-k{k}.json"))
    copy = load(os.path.join(d, "copy.json"))
    if copy and copy["seconds"]:
        copy["rows_per_s"] = round(copy["rows"] / copy["seconds"])
    metrics = os.path.join(d, "intake-hj212.metrics")
    if not any(readings.values()) and not any(hj212.values()):
        return None
    return {"batch": batch, "readings": readings, "hj212": hj212,
            "hj212_metrics": open(metrics).read().splitlines() if os.path.exists(metrics) else [],
            "database": {"insert": insert, "copy": copy}}

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
            prepared = pgbench(os.path.join(d, f"pg-{op}-c{c}-prepared.txt"))
            simple = pgbench(os.path.join(d, f"pg-{op}-c{c}-simple.txt"))
            entry = {"graphql": w, "rss_mb": rss(os.path.join(d, f"{op}-c{c}.rss")),
                     "pgbench_prepared": prepared, "pgbench_simple": simple,
                     "server_cpu_ms_per_request": cpu_ms_per_request(
                         os.path.join(d, f"{op}-c{c}.cpu"), w and w["requests"])}
            if w and prepared and prepared["tps"]:
                entry["ratio_to_prepared"] = round(w["rps"] / prepared["tps"], 3)
            if w and simple and simple["tps"]:
                entry["ratio_to_simple"] = round(w["rps"] / simple["tps"], 3)
            per["ops"][op][str(c)] = entry
    memory = {"idle_rss_mb": rss(os.path.join(d, "idle.rss")), "ops": {}}
    for op in memory_ops:
        path = os.path.join(d, f"mem-{op}.wrk")
        if os.path.exists(path):
            memory["ops"][op] = {"graphql": wrk(path), "rss_mb": rss(os.path.join(d, f"mem-{op}.rss"))}
    per["memory"] = memory
    per["intake"] = intake(d)
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

def intake_lines(i):
    if not i:
        return []
    out = ["", f"intake: `recordReadings`, batches of {i['batch']} readings (one time of "
           f"{i['batch']} series; `, M series`: {i['batch']}/M times of M series, fewer permits "
           "a batch), N clients with one batch in flight each; readings/s = readings the answers say were inserted ÷ wall time "
           "(db = rows COUNT(*) added); CPU in cores (server, PostgreSQL, load generator, anything else); "
           "database = pgbench, one multi-row INSERT … SELECT of the same rows a statement, same "
           "clients, no checks:", "",
           "| clients | readings/s | batch p50 ms | p99 ms | errors | db rows | CPU server / pg / client / other "
           "| database rows/s | ratio |", "|---|---|---|---|---|---|---|---|---|"]
    for c, r in i["readings"].items():
        pg = i["database"]["insert"].get(c)
        if not r:
            out.append(f"| {c} | (no run) | | | | | | | |")
            continue
        cpu = r["cpu_cores"]
        out.append("| {} | {:.0f} | {} | {} | {} | {} | {} / {} / {} / {} | {} | {} |".format(
            c, r["readings_per_s"], r["p50_ms"], r["p99_ms"], r["errors"], r["db_rows_added"],
            cpu["server"], cpu["postgres"], cpu["client"], cpu.get("other", "?"),
            f"{pg['rows_per_s']}" if pg else "–", r.get("ratio_to_insert", "–")))
    copy = i["database"]["copy"]
    if copy:
        out += ["", f"database, one COPY of {copy['rows']} rows into the same table: "
                f"{copy['rows_per_s']} rows/s ({copy['seconds']} s)."]
    out += ["", "HJ 212-2017 over TCP: K connections, one registered monitor each, real-time packets "
            "(CN=2011, Flag=5) sent one at a time, each waiting for the data answer (CN=9014):", "",
            "| connections | packets/s | readings/s | readings/packet | p50 ms | p99 ms | unanswered "
            "| db rows | CPU server / pg / client / other |", "|---|---|---|---|---|---|---|---|---|"]
    for k, h in i["hj212"].items():
        if not h:
            out.append(f"| {k} | (no run) | | | | | | | |")
            continue
        cpu = h["cpu_cores"]
        out.append("| {} | {:.0f} | {:.0f} | {} | {} | {} | {} | {} | {} / {} / {} / {} |".format(
            k, h["packets_per_s"], h["readings_per_s"], h["readings_per_packet"], h["p50_ms"],
            h["p99_ms"], h["unanswered"] + h["bad_answers"], h["db_rows_added"],
            cpu["server"], cpu["postgres"], cpu["client"], cpu.get("other", "?")))
    return out

lines = [f"# bench/run {meta['started']} ({meta['command']})", "",
         f"machine: {meta['machine']}; {meta.get('database', 'PostgreSQL')}; each point {meta['duration_s']} s of wrk on loopback; "
         "ratio = GraphQL req/s ÷ pgbench tps of the same result as one SQL statement with "
         "prepared statements (`-M prepared`; the simple protocol's tps and ratio beside it for "
         "reference), same concurrency, same run; CPU = server CPU ms per request (/proc).", ""]
for size in sizes:
    per = out["sizes"][str(size)]
    data = per["data"]
    lines.append(f"## {size} units ({data.get('findings', '?')} findings, {data.get('permits', '?')} permits)")
    lines.append("")
    ran = any(e["graphql"] for op in ops for e in per["ops"][op].values())
    if ran:
        lines.append("| op | c | req/s | p50 ms | p99 ms | p99/p50 | errors | pgbench prepared tps | ratio | pgbench simple tps | ratio simple | CPU ms/req | RSS MB | stmts/req |")
        lines.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for op in (ops if ran else []):
        for c in concs:
            e = per["ops"][op][str(c)]
            w = e["graphql"]
            if not w:
                lines.append(f"| {op} | {c} | (no run) | | | | | | | | | | | |")
                continue
            prepared, simple = e["pgbench_prepared"], e["pgbench_simple"]
            ratio, ratio_simple = e.get("ratio_to_prepared"), e.get("ratio_to_simple")
            cpu = e["server_cpu_ms_per_request"]
            lines.append("| {} | {} | {:.0f} | {:.2f} | {:.2f} | {:.1f} | {} | {} | {} | {} | {} | {} | {} | {} |".format(
                op, c, w["rps"], w["p50_ms"], w["p99_ms"],
                w["p99_ms"] / w["p50_ms"] if w["p50_ms"] else 0, w["errors"] + w["socket_errors"],
                f"{prepared['tps']:.0f}" if prepared and prepared["tps"] else "–",
                f"**{ratio:.2f}**" if ratio is not None else "–",
                f"{simple['tps']:.0f}" if simple and simple["tps"] else "–",
                f"{ratio_simple:.2f}" if ratio_simple is not None else "–",
                f"{cpu:.3f}" if cpu is not None else "–",
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
    lines.extend(intake_lines(per["intake"]))
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
