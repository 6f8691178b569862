-- The OpenID provider's hot paths, for authgate and oidc-provider alike.
--
-- BENCH_MODE=codes: authorization-code exchanges. BENCH_CODES names a file of "code verifier"
-- lines minted just before the run; each of the BENCH_THREADS wrk threads takes an equal share
-- of them and POSTs
-- grant_type=authorization_code with the code, its PKCE verifier and BENCH_REDIRECT_URI (the
-- client authenticates with the Authorization header given to wrk -H). A code works once, so
-- each is sent once; a thread that runs out sends its last code again, which the server
-- refuses (400): counted as "starved".
-- BENCH_MODE=bearer: userinfo. BENCH_TOKENS names a file of access tokens, one a line; every
-- request is a GET with the next of them (round robin), as a handful of devices would send.
--
-- Every answer other than 200 is counted as "failed". After the run BENCH_REPORT gets the
-- counts ("used N", "starved N", "failed N") and the first failed answers ("sample <status>
-- <body>"), so that a failure can be read, not only counted. wrk calls request() once on its
-- first thread to check the script and never sends it: that code is lost, one of the spares.

local mode = os.getenv("BENCH_MODE")
local threads = {}
local all = nil

local function read_lines(path)
  local lines = {}
  for line in io.lines(path) do
    if line ~= "" then table.insert(lines, line) end
  end
  return lines
end

function setup(thread)
  if all == nil then
    all = read_lines(os.getenv(mode == "codes" and "BENCH_CODES" or "BENCH_TOKENS"))
  end
  if mode == "codes" then
    local per = math.ceil(#all / tonumber(os.getenv("BENCH_THREADS")))
    local first = #threads * per
    thread:set("lines", table.concat(all, "\n", first + 1, math.min(first + per, #all)))
  else
    thread:set("lines", table.concat(all, "\n"))
  end
  table.insert(threads, thread)
end

local function urlencode(value)
  return (string.gsub(value, "[^%w%-%._~]", function(c)
    return string.format("%%%02X", string.byte(c))
  end))
end

local items = { [0] = "grant_type=authorization_code&code=none&code_verifier=none" }
local redirect = ""
count, next_index, starved, failed, samples = 0, 1, 0, 0, ""
local kept = 0

function init(args)
  for line in string.gmatch(lines or "", "[^\n]+") do
    count = count + 1
    if mode == "codes" then
      local code, verifier = string.match(line, "^(%S+)%s+(%S+)$")
      items[count] = "grant_type=authorization_code&code=" .. urlencode(code)
        .. "&code_verifier=" .. urlencode(verifier)
    else
      items[count] = { ["Authorization"] = "Bearer " .. line }
    end
  end
  redirect = "&redirect_uri=" .. urlencode(os.getenv("BENCH_REDIRECT_URI") or "")
  if mode == "codes" then
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  end
end

function request()
  local i = next_index
  if mode == "codes" then
    if i > count then
      starved = starved + 1
      i = count
    else
      next_index = i + 1
    end
    return wrk.format(nil, nil, nil, items[i] .. redirect)
  end
  next_index = i % count + 1
  return wrk.format("GET", nil, items[i])
end

function response(status, headers, body)
  if status ~= 200 then
    failed = failed + 1
    if kept < 3 then
      kept = kept + 1
      local text = string.gsub(string.sub(body or "", 1, 400), "\n", " ")
      samples = samples .. "sample " .. status .. " " .. text .. "\n"
    end
  end
end

function done(summary, latency, requests)
  local totals = { used = 0, failed = 0, starved = 0 }
  local text = ""
  for _, thread in ipairs(threads) do
    totals.used = totals.used + math.min(thread:get("next_index") - 1, thread:get("count"))
    totals.failed = totals.failed + thread:get("failed")
    totals.starved = totals.starved + thread:get("starved")
    text = text .. thread:get("samples")
  end
  local out = io.open(os.getenv("BENCH_REPORT"), "w")
  for _, name in ipairs({ "used", "starved", "failed" }) do
    io.write(string.format("BENCH %s=%d\n", name, totals[name]))
    out:write(string.format("%s %d\n", name, totals[name]))
  end
  out:write(text)
  out:close()
end
