-- wrk script: optional unique-address POSTs, and a JSON summary the harness parses.
-- Environment: WRK_BODY (form body with __EMAIL__ where a fresh address goes),
-- WRK_COOKIE (Cookie header), WRK_RUN_TAG. Without WRK_BODY every request is a plain GET.
local body_template = os.getenv("WRK_BODY")
local cookie = os.getenv("WRK_COOKIE")
local counter = 0
-- WRK_RUN_TAG is unique per wrk run, so no address repeats across runs.
local run_tag = os.getenv("WRK_RUN_TAG") or tostring(os.time())
local threads_made = 0

function setup(thread)  -- runs in the main state; thread_tag becomes a thread global
  threads_made = threads_made + 1
  thread:set("thread_tag", run_tag .. "t" .. threads_made)
end

function request()
  if not body_template then
    return wrk.format("GET", nil, cookie and { ["Cookie"] = cookie } or nil)
  end
  counter = counter + 1
  local address = "load" .. thread_tag .. "x" .. counter .. "%%40example.com"  -- %% escapes gsub
  local body = body_template:gsub("__EMAIL__", address)
  local headers = {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = cookie,
    ["Referer"] = wrk.scheme .. "://" .. wrk.host .. ":" .. wrk.port .. wrk.path,
  }
  return wrk.format("POST", nil, headers, body)
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "status_errors": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, errors.status, errors.connect + errors.read + errors.write + errors.timeout))
end
