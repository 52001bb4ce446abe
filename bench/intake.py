#!/usr/bin/env python3
"""Load generators of bench/run's intake points (issue 17). Standard library only.

  intake.py readings URL TOKEN SERIES TICKS --clients N --duration S [--batch 1000] [--series M]
      N threads post `recordReadings` batches for S seconds, each on its own keep-alive
      connection, one request in flight each (closed loop). A batch is BATCH / M times of M
      series (default M = BATCH: one time of as many series, a platform relaying its monitors;
      fewer series, more times: fewer permits a batch).
  intake.py hj212 HOST PORT DEVICES TICKS --connections K --duration S
      K TCP connections, one registered device each, send HJ 212-2017 real-time packets
      (CN=2011, Flag=5: an answer is wanted) and wait for the data answer (CN=9014) before
      sending the next, as a monitor does.

SERIES: TSV outlet_id, pollutant, unit, concentration limit (may be empty), HJ 212 code (may
be empty) — outlet and pollutant of a permit valid over the whole time window, so the
service's checks pass. DEVICES: TSV mn, password, outlet_id, then code=limit pairs.

Keys never repeat: reading times step back TICK_SECONDS from the time in TICKS (line 1, Unix
seconds) by the tick counter (line 2), which each point moves on past the ticks it used. A
readings batch takes BATCH / M ticks of M series; an HJ 212 connection sends one packet a
tick of its device. One reading in EXCEED_EVERY is above its limit (an
EX-1 candidate), as a few are in real data.

Prints one JSON line: counts, rates, latency percentiles, and the CPU seconds of the server
(--server-pid), of PostgreSQL and of this client over the measured interval.
"""
import argparse, asyncio, base64, http.client, json, os, sys, threading, time
from datetime import datetime, timedelta, timezone

TICK_SECONDS = 10
EXCEED_EVERY = 500
CHINA = timezone(timedelta(hours=8))
CLK = os.sysconf("SC_CLK_TCK")
DATABASE = os.environ.get("BENCH_DATABASE", "")  # the database the points write to


# --- CPU accounting ------------------------------------------------------------------------
def cpu_of(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK  # utime + stime
    except (OSError, IndexError, ValueError):
        return 0.0


def postgres_cpu():
    """PostgreSQL's processes but the backends of other databases (e.g. tests running beside)."""
    total = 0.0
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/comm") as f:
                    if f.read().strip() != "postgres":
                        continue
                with open(f"/proc/{pid}/cmdline") as f:
                    title = f.read()  # "postgres: user database host(port) state" for a backend
            except OSError:
                continue
            words = title.replace("\0", " ").split()
            client = next((i for i, w in enumerate(words) if "(" in w and i >= 2), None)
            if DATABASE and client is not None and words[client - 1] != DATABASE:
                continue
            total += cpu_of(pid)
    return total


def machine_busy():
    """CPU seconds the whole machine was busy (all but idle and iowait), from /proc/stat."""
    fields = [int(x) for x in open("/proc/stat").readline().split()[1:9]]
    return (sum(fields) - fields[3] - fields[4]) / CLK


def snapshot(server_pid):
    t = os.times()
    return {"wall": time.monotonic(), "server": cpu_of(server_pid) if server_pid else 0.0,
            "postgres": postgres_cpu(), "client": t.user + t.system, "machine": machine_busy()}


def cpu_used(a, b):
    """Cores busy over the interval: server, PostgreSQL, this client, and anything else on
    the machine (a compiler, say: then the figures are not to be trusted)."""
    wall = b["wall"] - a["wall"]
    used = {k: round((b[k] - a[k]) / wall, 2) for k in ("server", "postgres", "client")}
    used["other"] = round((b["machine"] - a["machine"]) / wall - sum(used.values()), 2)
    return used


def percentile(values, p):
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(p / 100 * len(values)))] * 1000, 2)


def read_ticks(path):
    base, tick = open(path).read().split()
    return int(base), int(tick)


def write_ticks(path, base, tick):
    with open(path, "w") as f:
        f.write(f"{base}\n{tick}\n")


def value_for(limit, n):
    """Mostly 25–75 % of the limit; one in EXCEED_EVERY at 1.3 times it."""
    if limit is None:
        return round(5 + n % 40 / 10, 2)
    if n % EXCEED_EVERY == 0:
        return round(limit * 1.3, 2)
    return round(limit * (0.25 + (n * 7919 % 50) / 100), 3)


# --- recordReadings ------------------------------------------------------------------------
MUTATION = ("mutation RecordReadings($input: RecordReadingsInput!) "
            "{ recordReadings(input: $input) { inserted unchanged } }")


def outlet_gid(outlet_id):
    return base64.urlsafe_b64encode(f"Outlet:{outlet_id}".encode()).decode().rstrip("=")


def load_series(path):
    series = []
    for line in open(path):
        outlet, pollutant, unit, limit, *_ = line.rstrip("\n").split("\t")
        series.append((int(outlet), pollutant, unit, float(limit) if limit else None))
    return series


def readings_point(a):
    m = a.series or a.batch
    series = load_series(a.file)[:m]
    if len(series) < m or a.batch % m:
        sys.exit(f"intake.py: {len(series)} series; a batch of {a.batch} needs {m}, dividing it")
    times = a.batch // m
    # Each series' reading as JSON with two holes: the time and the value.
    templates = [json.dumps({"outletId": outlet_gid(o), "pollutant": p, "measuredAt": "@T@",
                             "value": 0.0, "unitOfMeasure": u, "source": "AUTOMATIC", "flag": "N"},
                            ensure_ascii=False).replace('"value": 0.0', '"value": @V@')
                 for o, p, u, _ in series]
    head = json.dumps({"query": MUTATION, "operationName": "RecordReadings"})[:-1]
    base, first_tick = read_ticks(a.ticks)
    host, port = a.url.split("//", 1)[1].split("/", 1)[0].split(":")
    path = "/" + a.url.split("//", 1)[1].split("/", 1)[1]
    lock = threading.Lock()
    # The tick counter counts batches here (each takes `times` ticks).
    first_batch = -(-first_tick // times)
    state = {"tick": first_batch, "batches": 0, "inserted": 0, "unchanged": 0, "errors": 0,
             "first_error": None, "latencies": []}

    def body(batch):
        rows = []
        for j in range(times):
            tick = batch * times + j
            at = datetime.fromtimestamp(base - tick * TICK_SECONDS, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            rows += [t.replace("@T@", at).replace("@V@", repr(value_for(s[3], tick * m + i)))
                     for i, (t, s) in enumerate(zip(templates, series))]
        return (head + ', "variables": {"input": {"readings": [' + ",".join(rows) + "]}}}").encode()

    def client(deadline):
        conn = http.client.HTTPConnection(host, int(port), timeout=60)
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {a.token}"}
        while time.monotonic() < deadline:
            with lock:
                tick = state["tick"]
                state["tick"] += 1
            data = body(tick)
            t0 = time.monotonic()
            try:
                conn.request("POST", path, data, headers)
                resp = conn.getresponse()
                answer = resp.read()
            except (OSError, http.client.HTTPException) as e:
                answer, resp = str(e).encode(), None
                conn.close()
                conn = http.client.HTTPConnection(host, int(port), timeout=60)
            elapsed = time.monotonic() - t0
            try:
                result = json.loads(answer)["data"]["recordReadings"]
            except (ValueError, KeyError, TypeError):
                result = None
            with lock:
                if result is None:
                    state["errors"] += 1
                    state["first_error"] = state["first_error"] or answer[:400].decode(errors="replace")
                else:
                    state["batches"] += 1
                    state["inserted"] += result["inserted"]
                    state["unchanged"] += result["unchanged"]
                    state["latencies"].append(elapsed)

    threads = []
    start = snapshot(a.server_pid)
    deadline = time.monotonic() + a.duration
    for _ in range(a.clients):
        threads.append(threading.Thread(target=client, args=(deadline,)))
        threads[-1].start()
    for t in threads:
        t.join()
    end = snapshot(a.server_pid)
    write_ticks(a.ticks, base, state["tick"] * times)
    wall = end["wall"] - start["wall"]
    lat = state["latencies"]
    return {"clients": a.clients, "batch": a.batch, "seconds": round(wall, 2),
            "batches": state["batches"], "inserted": state["inserted"],
            "unchanged": state["unchanged"], "errors": state["errors"],
            "first_error": state["first_error"], "series": m, "times": times,
            "body_bytes": len(body(first_batch)),
            "readings_per_s": round(state["inserted"] / wall, 1),
            "batches_per_s": round(state["batches"] / wall, 2),
            "p50_ms": percentile(lat, 50), "p99_ms": percentile(lat, 99),
            "max_ms": round(max(lat) * 1000, 1) if lat else None,
            "cpu_cores": cpu_used(start, end)}


# --- HJ 212 --------------------------------------------------------------------------------
def crc16(data: bytes) -> int:
    """HJ 212-2017's CRC (as crates/api/src/hj212/codec.rs): register 0xFFFF; per byte
    crc = (crc >> 8) ^ byte, then eight shifts right, xor 0xA001 when a 1 was shifted out."""
    crc = 0xFFFF
    for byte in data:
        crc = (crc >> 8) ^ byte
        for _ in range(8):
            carry = crc & 1
            crc >>= 1
            if carry:
                crc ^= 0xA001
    return crc


def encode(segment: str) -> bytes:
    return f"##{len(segment):04d}{segment}{crc16(segment.encode()):04X}\r\n".encode()


# The standard's own example (HJ 212-2017 §6.3): length 0101, CRC 1C80.
assert encode("QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;"
              "Flag=5;CP=&&RtdInterval=30&&") == (
    b"##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;"
    b"Flag=5;CP=&&RtdInterval=30&&1C80\r\n")


def load_devices(path):
    devices = []
    for line in open(path):
        mn, pw, outlet, *items = line.rstrip("\n").split("\t")
        codes = [(c, float(l) if l else None) for c, l in (i.split("=", 1) for i in items)]
        devices.append((mn, pw, codes))
    return devices


def packet(mn, pw, codes, data_time, n):
    qn = datetime.now(CHINA).strftime("%Y%m%d%H%M%S%f")[:17]
    st = "32" if codes[0][0].startswith("w") else "31"
    # Each pollutant's real-time value and flag; plus the flow (w00000 / a00000), which the
    # service leaves out (no permit limits it), as a real monitor sends it.
    flow = "w00000" if st == "32" else "a00000"
    items = ";".join(f"{c}-Rtd={value_for(l, n * 7 + i)},{c}-Flag=N" for i, (c, l) in enumerate(codes))
    cp = f"DataTime={data_time.strftime('%Y%m%d%H%M%S')};{items};{flow}-Rtd=12.5,{flow}-Flag=N"
    return qn, encode(f"QN={qn};ST={st};CN=2011;PW={pw};MN={mn};Flag=5;CP=&&{cp}&&")


async def hj212_connection(host, port, device, base, first_tick, deadline, out):
    mn, pw, codes = device
    reader, writer = await asyncio.open_connection(host, port)
    n = 0
    try:
        while time.monotonic() < deadline:
            at = datetime.fromtimestamp(base - (first_tick + n) * TICK_SECONDS, CHINA)
            qn, data = packet(mn, pw, codes, at, n)
            t0 = time.monotonic()
            writer.write(data)
            try:
                answer = await asyncio.wait_for(reader.readuntil(b"\r\n"), 10)
            except (asyncio.TimeoutError, asyncio.IncompleteReadError):
                out["unanswered"] += 1  # refused: no answer (see the server's metrics)
                break
            n += 1
            segment = answer[6:-6]
            if (answer.startswith(b"##") and int(answer[2:6]) == len(segment)
                    and int(answer[-6:-2], 16) == crc16(segment)
                    and segment.startswith(f"QN={qn};ST=91;CN=9014;".encode())):
                out["acks"] += 1
                out["readings_sent"] += len(codes)
                out["latencies"].append(time.monotonic() - t0)
            else:
                out["bad_answers"] += 1
    finally:
        out["ticks"] = max(out["ticks"], n)
        writer.close()


async def hj212_run(a):
    devices = load_devices(a.file)
    if len(devices) < a.connections:
        sys.exit(f"intake.py: {len(devices)} devices, fewer than {a.connections} connections")
    base, first_tick = read_ticks(a.ticks)
    out = {"acks": 0, "readings_sent": 0, "unanswered": 0, "bad_answers": 0, "ticks": 0,
           "latencies": []}
    start = snapshot(a.server_pid)
    deadline = time.monotonic() + a.duration
    await asyncio.gather(*(hj212_connection(a.host, a.port, d, base, first_tick, deadline, out)
                           for d in devices[: a.connections]))
    end = snapshot(a.server_pid)
    write_ticks(a.ticks, base, first_tick + out["ticks"] + 1)
    wall = end["wall"] - start["wall"]
    lat = out.pop("latencies")
    out.pop("ticks")
    return {"connections": a.connections, "seconds": round(wall, 2), **out,
            "readings_per_packet": round(out["readings_sent"] / out["acks"], 2) if out["acks"] else None,
            "packets_per_s": round(out["acks"] / wall, 1),
            "readings_per_s": round(out["readings_sent"] / wall, 1),
            "p50_ms": percentile(lat, 50), "p99_ms": percentile(lat, 99),
            "cpu_cores": cpu_used(start, end)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("readings")
    r.add_argument("url"); r.add_argument("token"); r.add_argument("file"); r.add_argument("ticks")
    r.add_argument("--clients", type=int, default=4)
    r.add_argument("--batch", type=int, default=1000)
    r.add_argument("--series", type=int, help="series a batch (default: the batch size)")
    h = sub.add_parser("hj212")
    h.add_argument("host"); h.add_argument("port", type=int); h.add_argument("file"); h.add_argument("ticks")
    h.add_argument("--connections", type=int, default=16)
    for p in (r, h):
        p.add_argument("--duration", type=float, default=6)
        p.add_argument("--server-pid", type=int)
    a = ap.parse_args()
    if a.cmd == "readings":
        result = readings_point(a)
    else:
        result = asyncio.run(hj212_run(a))
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
