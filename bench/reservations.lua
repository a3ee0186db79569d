-- wrk script for bench/reservations.sh: each thread (one connection) reserves its own two
-- nodes, then ends both reservations, and again. A cycle is those three requests.
local count, threads = 0, {}

function setup(thread)
  count = count + 1
  thread:set("n", count)
  table.insert(threads, thread)
end

function init(args)
  headers = {["Authorization"] = "token " .. args[1], ["Content-Type"] = "application/json"}
  body = string.format('{"node_ids": ["stb-tester-%012d", "stb-tester-%012d"], ' ..
                       '"message": "bench", "duration_secs": 3600}', 2 * n - 1, 2 * n)
  pending, cycles, errors = {}, 0, 0
end

function request()
  if #pending > 0 then
    return wrk.format("DELETE", "/api/v2/reservations/" .. table.remove(pending), headers)
  end
  return wrk.format("POST", "/api/v2/reservations", headers, body)
end

function response(status, headers, resp)
  if status == 200 then
    for id in string.gmatch(resp, '"reservation_id":(%d+)') do table.insert(pending, id) end
  elseif status == 204 then
    if #pending == 0 then cycles = cycles + 1 end
  else
    errors = errors + 1
  end
end

function done(summary, latency, requests)
  local c, e = 0, 0
  for _, t in ipairs(threads) do
    c, e = c + t:get("cycles"), e + t:get("errors")
  end
  io.write(string.format("cycles=%d errors=%d seconds=%.3f\n", c, e, summary.duration / 1e6))
end
