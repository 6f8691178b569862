-- Pre-signed gateway requests, each sent exactly once (a nonce may only be used once).
--
-- BENCH_REQUESTS names a file of "path<TAB>Authorization" lines, signed just before the run;
-- each wrk thread takes BENCH_PER_THREAD of them. A thread that runs out sends its last
-- request again, which the gateway refuses as a replay (401); such requests are counted as
-- "starved" and make the figures invalid.

local threads = {}
local all = nil

function setup(thread)
  if all == nil then
    all = {}
    for line in io.lines(os.getenv("BENCH_REQUESTS")) do
      if line ~= "" then table.insert(all, line) end
    end
  end
  local per = tonumber(os.getenv("BENCH_PER_THREAD"))
  local first = #threads * per
  table.insert(threads, thread)
  thread:set("lines", table.concat(all, "\n", first + 1, math.min(first + per, #all)))
end

local paths, auths, next_index, count = {}, {}, 1, 0
starved = 0

function init(args)
  for line in string.gmatch(lines or "", "[^\n]+") do
    local path, auth = string.match(line, "^([^\t]+)\t(.+)$")
    count = count + 1
    paths[count], auths[count] = path, auth
  end
end

function request()
  local i = next_index
  if i > count then
    starved = starved + 1
    i = count
  else
    next_index = i + 1
  end
  return wrk.format("GET", paths[i], { ["Authorization"] = auths[i] })
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + (thread:get("starved") or 0) end
  io.write(string.format("BENCH starved=%d\n", total))
end
