-- wrk script for `make bench` (tests/bench/loadgen.py runs it): POST JSON ticket bodies, each
-- from a different citizen phone, and print a machine-readable summary.
--
--   wrk -t1 -c32 -d15s -s wrk_tickets.lua URL -- BODIES FIRST_PHONE STOP_AFTER TOKEN
--
-- BODIES: a file of body templates, one JSON object a line, with @PHONE@ where the citizen's
-- phone goes; requests cycle through them. FIRST_PHONE: an integer below 10^9; request n gets
-- the mobile number 13 followed by FIRST_PHONE + n in nine digits, so no two requests of a run
-- (and, with distinct FIRST_PHONEs, of a bench) share a citizen. STOP_AFTER: stop the run after
-- that many responses (0: run for the whole -d duration). TOKEN: the bearer token.
--
-- The harness runs one wrk thread: phones and STOP_AFTER are counted per thread, and one
-- epoll loop carries 32 connections at tens of thousands of requests/s, far above what the
-- servers measured here answer, while leaving the second core to the server.

local ffi = require("ffi")
ffi.cdef([[
int kill(int pid, int sig);
int getpid(void);
]])
local SIGINT = 2

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   templates = {}
   for line in io.lines(args[1]) do
      local at = line:find("@PHONE@", 1, true)
      templates[#templates + 1] = { line:sub(1, at - 1), line:sub(at + #"@PHONE@") }
   end
   first_phone = tonumber(args[2])
   stop_after = tonumber(args[3])
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/json"
   wrk.headers["Authorization"] = "Bearer " .. args[4]
   sent, accepted, refused = 0, 0, 0
   statuses = {} -- the non-2xx ones, by code, to say what the refusals were
end

function request()
   local template = templates[sent % #templates + 1]
   local phone = string.format("13%09d", (first_phone + sent) % 1000000000)
   sent = sent + 1
   return wrk.format(nil, nil, nil, template[1] .. phone .. template[2])
end

function response(status, headers, body)
   if status >= 200 and status < 300 then
      accepted = accepted + 1
   else
      refused = refused + 1
      statuses[status] = (statuses[status] or 0) + 1
   end
   if stop_after > 0 and accepted + refused == stop_after then
      -- thread:stop() ends this thread's loop at once, but wrk's main thread sleeps for the
      -- whole -d duration before it joins the threads and reports; SIGINT is what wakes it
      -- (wrk's handler only sets its stop flag), so the summary's duration ends here.
      wrk.thread:stop()
      ffi.C.kill(ffi.C.getpid(), SIGINT)
   end
end

function done(summary, latency, requests)
   local ok, non_2xx, by_status = 0, 0, {}
   for _, thread in ipairs(threads) do
      ok = ok + thread:get("accepted")
      non_2xx = non_2xx + thread:get("refused")
      for status, count in pairs(thread:get("statuses")) do
         by_status[status] = (by_status[status] or 0) + count
      end
   end
   local statuses = {}
   for status, count in pairs(by_status) do
      statuses[#statuses + 1] = string.format('"%d": %d', status, count)
   end
   local errors = summary.errors
   io.write(string.format(
      'WRK_JSON {"duration_us": %d, "requests": %d, "accepted": %d, "non_2xx": %d, '
         .. '"p50_us": %d, "p99_us": %d, "max_us": %d, "timeouts": %d, "socket_errors": %d, "statuses": {%s}}\n',
      summary.duration,
      summary.requests,
      ok,
      non_2xx,
      latency:percentile(50),
      latency:percentile(99),
      latency.max,
      errors.timeout,
      errors.connect + errors.read + errors.write,
      table.concat(statuses, ", ")
   ))
end
