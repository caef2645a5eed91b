-- wrk script: POST /api/v3/core/users/ with a new username every time.
-- BENCH_TOKEN in the environment is the API token of a superuser.
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
	thread:set("id", #threads + 1)
	table.insert(threads, thread)
end

function init(args)
	thread_id = id
	wrk.method = "POST"
	wrk.headers["Content-Type"] = "application/json"
	wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
end

function request()
	counter = counter + 1
	local name = string.format("wrk-%d-%d-%d", thread_id, os.time(), counter)
	return wrk.format(nil, nil, nil,
		'{"username":"' .. name .. '","name":"Bench ' .. name .. '","email":"' .. name .. '@example.com"}')
end
