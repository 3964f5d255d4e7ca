-- get_incident.lua — wrk script for bench/serve_bench.sh:
-- GET /api/v1/incidents/{operator}/{id} of random existing incidents of the
-- registry made by bench/serve/gen_registry.py (id "s%07d" % i, operator
-- "Operator %03d (synthetic)" % (i % 200)), with a bearer token.
--
--   wrk ... -s get_incident.lua URL -- TOKEN N [track]
--
-- With "track", response() counts the statuses and measures the latency of
-- the 200 answers alone, so that under overload the admitted requests'
-- latency is not mixed with the fast 503 refusals: request() keeps the send
-- time by incident id, response() finds the id in a 200's body.  A refusal
-- does not name the id, so its send time stays behind; the latest send time
-- of the id is taken (ids are drawn from a million, so two requests for the
-- same id are seldom under way at once).  done() prints one line
-- "track: ..." with the merged figures of every thread.
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } jiko_timespec;
int clock_gettime(int clk, jiko_timespec *ts);
]]
local ts = ffi.new("jiko_timespec")
local function now_us()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000000 + tonumber(ts.tv_nsec) / 1000
end

local threads = {}
function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

-- globals: read from each thread's state by done() (thread:get)
track, statuses, lat = false, {}, {}
local token, n
local ops = {}
local heads, tail = {}, nil
local sent = {}
local nlat = 0

function init(args)
  token = args[1] or error("usage: -- TOKEN N [track]")
  n = tonumber(args[2] or "1000000")
  track = args[3] == "track"
  for k = 0, 199 do
    ops[k] = string.format("Operator%%20%03d%%20%%28synthetic%%29", k)
  end
  math.randomseed(os.time() * 1000 + (id or 0))
  wrk.headers["Authorization"] = "Bearer " .. token
  -- The request's text around the path, made once: wrk.format formats every
  -- header of every request anew, and wrk shares the 2 cores with the
  -- server it measures (docs/serve-performance.md).  Same bytes as before.
  local sample = wrk.format("GET", "/")
  tail = sample:sub(#"GET /" + 1)
  for k = 0, 199 do
    heads[k] = "GET /api/v1/incidents/" .. ops[k] .. "/"
  end
  if track then
    response = function(status, headers, body)
      statuses[status] = (statuses[status] or 0) + 1
      if status == 200 then
        local iid = string.match(body, '"id":"(s%d+)"')
        local q = iid and sent[iid]
        if q and #q > 0 then
          local t0 = table.remove(q)
          nlat = nlat + 1
          lat[nlat] = now_us() - t0
        end
      end
    end
  end
end

function request()
  local i = math.random(0, n - 1)
  local iid = string.format("s%07d", i)
  if track then
    local q = sent[iid]
    if not q then q = {}; sent[iid] = q end
    q[#q + 1] = now_us()
  end
  return heads[i % 200] .. iid .. tail
end

function done(summary, latency, requests)
  local all, counts = {}, {}
  local any = false
  for _, th in ipairs(threads) do
    if th:get("track") then
      any = true
      for k, v in pairs(th:get("statuses")) do counts[k] = (counts[k] or 0) + v end
      for _, v in ipairs(th:get("lat")) do all[#all + 1] = v end
    end
  end
  if not any then return end
  table.sort(all)
  local function pct(p)
    if #all == 0 then return 0 end
    local k = math.max(1, math.ceil(#all * p / 100))
    return all[k] / 1000
  end
  local st = {}
  for k, v in pairs(counts) do st[#st + 1] = k .. "=" .. v end
  table.sort(st)
  io.write(string.format("track: statuses %s; ok_latency_ms n=%d p50=%.3f p90=%.3f p99=%.3f max=%.3f\n",
    table.concat(st, ","), #all, pct(50), pct(90), pct(99), pct(100)))
end
