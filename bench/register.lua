-- wrk script: POST varied registrations for SERVICES distinct services.
-- usage: wrk -s bench/register.lua ... -- TOKEN [SERVICES]
local token, services
local statuses = {"running", "healthy", "restarting", "exited"}

function init(args)
	token = args[1]
	services = tonumber(args[2] or "2000")
	math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end

function request()
	local i = math.random(0, services - 1)
	local body = string.format(
		'{"host":"bench%d","container_name":"svc-%05d","docker_status":"%s",' ..
		'"image_name":"ghcr.io/ex/app:1.%d","container_id":"%08x","stack_name":"s%d"}',
		i % 4, i, statuses[math.random(1, 4)], i % 3, math.random(0, 0x7fffffff), i % 20)
	return wrk.format("POST", "/api/v1/register",
		{["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}, body)
end

function done(summary, latency, requests)
	io.write(string.format("wrk: %.0f req/s  p50 %.2f ms  p99 %.2f ms  non-2xx %d  errors %d\n",
		summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
		latency:percentile(99) / 1000, summary.errors.status,
		summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
