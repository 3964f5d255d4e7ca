-- post_incident.lua — wrk script for bench/serve_bench.sh:
-- POST /api/v1/incidents, one new incident per request (application/json),
-- with an admin token of operator OPERATOR.
--
--   wrk ... -s post_incident.lua URL -- TOKEN RUNID [OPERATOR]
--
-- Ids are "p" .. RUNID .. "-" .. thread .. "-" .. counter: new on every
-- request of every run, as long as RUNID differs between runs on the same
-- registry, so each request stores a new incident (201), as an operator's
-- system reporting incidents as they happen would.
local threads = {}
function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

local runid, op
local k = 0
local svcs = {"ftth", "internet_access", "mobile_data", "mobile_voice", "ip_phone_050", "dsl"}
local eqs = {"subscriber_unit", "switch", "subscriber_cable", "radio_base_station", "power"}
local json_op

function init(args)
  wrk.method = "POST"
  wrk.headers["Authorization"] = "Bearer " .. (args[1] or error("usage: -- TOKEN RUNID [OPERATOR]"))
  wrk.headers["Content-Type"] = "application/json"
  runid = args[2] or error("usage: -- TOKEN RUNID [OPERATOR]")
  op = args[3] or "Bench Post (synthetic)"
  json_op = op:gsub('\\', '\\\\'):gsub('"', '\\"')
  math.randomseed(os.time() * 1000 + (tid or 0))
end

function request()
  k = k + 1
  local m, d, h, mi = math.random(4, 12), math.random(1, 28), math.random(0, 22), math.random(0, 59)
  local users = math.random(1, 5000)
  local body = string.format(
    '{"id":"p%s-%d-%d","operator":"%s","started_at":"2024-%02d-%02dT%02d:%02d:00+09:00",' ..
    '"ended_at":"2024-%02d-%02dT%02d:%02d:00+09:00","services":[{"service":"%s","effect":"stop",' ..
    '"users":%d}],"cause":{"category":"equipment","detail":"line card failure"},' ..
    '"equipment":"%s","region":"関東","summary":"posted by the server benchmark"}',
    runid, tid or 0, k, json_op, m, d, h, mi, m, d, h + 1, mi,
    svcs[math.random(#svcs)], users, eqs[math.random(#eqs)])
  return wrk.format(nil, "/api/v1/incidents", nil, body)
end
