-- The flooder of scripts/attack-suite.sh's flood run: one client address (sent in
-- X-Forwarded-For through the trusted proxy) alternating waiting-room joins without a pass
-- (POST /api/v1/sales/{id}/queue) and sale reads (GET /api/v1/sales/{id}) as fast as wrk
-- can send them.
--
--   wrk -t1 -c64 -d20s -s scripts/attack/flood.lua http://127.0.0.1:PORT -- SALE_ID [ADDRESS]
--
-- response() counts every answer by kind and status. A 2xx answer says what it was: a
-- queue answer carries "pass" (or "challenge"), a sale carries "sku"; refusals (429, 403,
-- ...) look the same for both kinds, so they are counted as "refused:<status>". request()
-- counts what was sent of each kind. done() prints one line
--   FLOOD_COUNTS {"sent": {...}, "answers": {...}}
-- wrk keeps one Lua state per thread and calls done() in yet another one, so the counts
-- are read back from every thread (run with -t1 for one state; more threads are summed).

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

local join_request, read_request
local sent = 0
sent_join, sent_read = 0, 0
answers = {}

function init(args)
   local sale = args[1]
   local address = args[2] or "198.51.100.7"
   if sale == nil then
      error("usage: wrk ... -s flood.lua URL -- SALE_ID [ADDRESS]")
   end
   local headers = { ["X-Forwarded-For"] = address, ["Accept"] = "application/json" }
   join_request = wrk.format("POST", "/api/v1/sales/" .. sale .. "/queue", headers, "")
   headers = { ["X-Forwarded-For"] = address, ["Accept"] = "application/json" }
   read_request = wrk.format("GET", "/api/v1/sales/" .. sale, headers)
end

function request()
   sent = sent + 1
   if sent % 2 == 1 then
      sent_join = sent_join + 1
      return join_request
   end
   sent_read = sent_read + 1
   return read_request
end

function response(status, headers, body)
   local kind
   if status >= 200 and status < 300 then
      if body and (body:find('"pass"', 1, true) or body:find('"challenge"', 1, true)) then
         kind = "join"
      elseif body and body:find('"sku"', 1, true) then
         kind = "read"
      else
         kind = "other"
      end
   else
      kind = "refused"
   end
   local key = kind .. ":" .. status
   answers[key] = (answers[key] or 0) + 1
end

function done(summary, latency, requests)
   local total_join, total_read, merged = 0, 0, {}
   for _, thread in ipairs(threads) do
      total_join = total_join + (thread:get("sent_join") or 0)
      total_read = total_read + (thread:get("sent_read") or 0)
      local counts = thread:get("answers") or {}
      for key, n in pairs(counts) do
         merged[key] = (merged[key] or 0) + n
      end
   end
   local parts = {}
   for key, n in pairs(merged) do
      table.insert(parts, string.format('"%s": %d', key, n))
   end
   table.sort(parts)
   io.write(string.format(
      'FLOOD_COUNTS {"sent": {"join": %d, "read": %d}, "answers": {%s}, "requests": %d, ' ..
      '"duration_s": %.3f, "socket_errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d, "status": %d}}\n',
      total_join, total_read, table.concat(parts, ", "), summary.requests, summary.duration / 1e6,
      summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout,
      summary.errors.status))
end
