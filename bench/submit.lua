-- wrk script: POST /api/v1/tickets (kind=new), one distinct employee per request.
-- Environment (set by bench/run.py):
--   BENCH_TOKEN        bearer token of the requester
--   BENCH_EMP_FIRST    first employee id of the range this run may use
--   BENCH_EMP_COUNT    size of that range (ids wrap around past it: those requests get 422)
--   BENCH_EXTENSION    "explicit" (extension = 200000 + employee id) or "auto" (server picks)
--   BENCH_WRK_THREADS  wrk -t value, so threads interleave ids without overlap
local first = tonumber(os.getenv("BENCH_EMP_FIRST"))
local count = tonumber(os.getenv("BENCH_EMP_COUNT"))
local explicit = os.getenv("BENCH_EXTENSION") == "explicit"
local threads = tonumber(os.getenv("BENCH_WRK_THREADS") or "1")
local next_thread = 0

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")

function setup(thread)
  thread:set("offset", next_thread)
  next_thread = next_thread + 1
end

local n = -1

function request()
  if n < 0 then
    n = offset or 0
  end
  local employee = first + (n % count)
  n = n + threads
  local body
  if explicit then
    body = string.format(
      '{"kind":"new","employee_id":%d,"extension":"%d","routing":{"type":"app_web"}}',
      employee, 200000 + employee)
  else
    body = string.format('{"kind":"new","employee_id":%d}', employee)
  end
  return wrk.format(nil, nil, nil, body)
end
