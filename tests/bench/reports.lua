-- GET /v1/reports/summary with a read key (ADMIN_KEY): the report patrond
-- reads from PATROND_DATABASE_READ_URL, the streaming replica in
-- tests/bench/scaleout.sh.
local key = os.getenv("ADMIN_KEY")
function request()
  return wrk.format("GET", "/v1/reports/summary", { ["Authorization"] = "Bearer " .. key })
end
