-- Refresh-token grants, chained. Refresh tokens are single-use and rotate, so the refresh
-- token in each 200 response is the one a later request presents.
--
-- BENCH_TOKENS names a file of fresh refresh tokens, one a line; each wrk thread takes
-- BENCH_PER_THREAD of them: one per connection, plus one spare, because wrk calls request()
-- once on its first thread to check the script and never sends that request.
--
-- wrk does not tell response() which connection a response came on, so each thread keeps a
-- first-in, first-out queue of unused tokens: every request takes one, every 200 response puts
-- its new one back. Each token is presented exactly once. A request that finds the queue empty
-- (a chain broke: an error answer, or a lost response) is counted as "starved" and sent with
-- an invalid token, which the server answers with 400.

local client_id = os.getenv("BENCH_CLIENT_ID") or "authgate-device"
local threads = {}
local all_tokens = nil

function setup(thread)
  if all_tokens == nil then
    all_tokens = {}
    for line in io.lines(os.getenv("BENCH_TOKENS")) do
      if line ~= "" then table.insert(all_tokens, line) end
    end
  end
  local per = tonumber(os.getenv("BENCH_PER_THREAD"))
  local first = #threads * per
  table.insert(threads, thread)
  thread:set("initial", table.concat(all_tokens, " ", first + 1, math.min(first + per, #all_tokens)))
end

local queue, head, tail = {}, 1, 0
failed, starved, chained = 0, 0, 0

local function urlencode(value)
  return (string.gsub(value, "[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function init(args)
  for token in string.gmatch(initial or "", "%S+") do
    tail = tail + 1
    queue[tail] = urlencode(token)
  end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

function request()
  local token
  if head <= tail then
    token = queue[head]
    queue[head] = nil
    head = head + 1
  else
    starved = starved + 1
    token = "spent-or-missing"
  end
  return wrk.format(nil, nil, nil,
    "grant_type=refresh_token&refresh_token=" .. token .. "&client_id=" .. client_id)
end

function response(status, headers, body)
  local token = status == 200 and string.match(body, '"refresh_token"%s*:%s*"([^"]+)"')
  if token then
    tail = tail + 1
    queue[tail] = urlencode(token)
    chained = chained + 1
  else
    failed = failed + 1
  end
end

function done(summary, latency, requests)
  local totals = { failed = 0, starved = 0, chained = 0 }
  for _, thread in ipairs(threads) do
    for name, _ in pairs(totals) do
      totals[name] = totals[name] + (thread:get(name) or 0)
    end
  end
  for name, value in pairs(totals) do
    io.write(string.format("BENCH %s=%d\n", name, value))
  end
end
