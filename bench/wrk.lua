-- wrk driver for one workload: POSTs the request bodies of BENCH_BODIES (one JSON body a line)
-- round-robin, with BENCH_TOKEN as bearer token. "__KEY__" in a body becomes a key unique to
-- this run, thread and request (M1's idempotency key). Counts responses whose body carries
-- GraphQL "errors" or no data, and prints the summary as one JSON line (prefixed "BENCH_JSON ").
local threads = {}
local counter = 1

function setup(thread)
  thread:set("id", counter)
  table.insert(threads, thread)
  counter = counter + 1
end

function init(args)
  bodies = {}
  for line in io.lines(os.getenv("BENCH_BODIES")) do
    if #line > 0 then table.insert(bodies, line) end
  end
  nonce = os.getenv("BENCH_NONCE") or "0"
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
  n = 0
  gql_errors = 0
  -- Each thread starts at its own offset so that threads do not send the same body in step.
  start = (id * 7919) % #bodies
end

function request()
  n = n + 1
  local body = bodies[((start + n) % #bodies) + 1]
  if string.find(body, "__KEY__", 1, true) then
    body = string.gsub(body, "__KEY__", nonce .. "-" .. id .. "-" .. n)
  end
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  if status == 200 and string.find(body, "\"errors\"", 1, true) then
    gql_errors = gql_errors + 1
  end
end

function done(summary, latency, requests)
  local errors = 0
  for _, t in ipairs(threads) do
    errors = errors + (t:get("gql_errors") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"rps":%.1f,"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,"errors":%d,"socket_errors":%d}\n',
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, errors + e.status, e.connect + e.read + e.write + e.timeout))
end
