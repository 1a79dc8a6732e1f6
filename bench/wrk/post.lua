-- wrk script for the benchmark: POSTs one fixed body with fixed headers, and at the end prints one
-- JSON line (prefixed "BENCH_RESULT ") that bench/lib/wrk.mjs parses, so no human-formatted units
-- ("1.23ms", "12.3k") have to be parsed back.
--   BENCH_BODY_FILE  path of the request body (read once at startup)
--   BENCH_HEADERS    header lines "Name: value", separated by "\n"
-- No response() callback on purpose: it makes wrk parse every body in Lua and caps its rate.

local body_file = os.getenv("BENCH_BODY_FILE")
local header_lines = os.getenv("BENCH_HEADERS") or ""

wrk.method = "POST"
if body_file then
  local file = assert(io.open(body_file, "rb"))
  wrk.body = file:read("*a")
  file:close()
end
wrk.headers["Content-Type"] = "application/json"
for line in string.gmatch(header_lines, "[^\n]+") do
  local name, value = string.match(line, "^%s*([^:]+):%s*(.-)%s*$")
  if name then wrk.headers[name] = value end
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"mean_us":%.1f,"errors_connect":%d,"errors_read":%d,"errors_write":%d,"errors_status":%d,"errors_timeout":%d}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout))
end
