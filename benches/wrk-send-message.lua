-- wrk script: A2A 1.0 SendMessage with a fresh messageId per request.
--   wrk -t1 -c64 -d10s -s benches/wrk-send-message.lua http://127.0.0.1:8000/
local counter = 0
local thread_id = tostring(math.random(1, 1e9))

request = function()
  counter = counter + 1
  local body = '{"jsonrpc":"2.0","id":' .. counter .. ',"method":"SendMessage","params":{"message":'
    .. '{"messageId":"bench-' .. thread_id .. '-' .. counter .. '","role":"ROLE_USER",'
    .. '"parts":[{"text":"hello"}]}}}'
  return wrk.format("POST", "/", {["Content-Type"] = "application/json", ["A2A-Version"] = "1.0"}, body)
end

local errors = 0
response = function(status, headers, body)
  if status ~= 200 or not string.find(body, "TASK_STATE_COMPLETED", 1, true) then
    errors = errors + 1
  end
end

done = function(summary, latency, requests)
  io.write(string.format("non-completed responses: %d\n", errors))
end
