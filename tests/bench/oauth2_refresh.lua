-- wrk script: refresh-token grants along rotation chains. Each refresh token is good once, so
-- every answer's new refresh_token is what the next request of that chain sends. Each thread
-- takes every Nth line of OAUTH_REFRESH_FILE (one token a line; N = the thread count, given
-- as the script's argument: wrk ... -- N) and needs at least as many chains as it has
-- connections. OAUTH_AUTH is the base64 of "client_id:client_secret"; OAUTH_SCOPE the scope.
-- A failed grant ends its chain; once a thread has none left it sends a token that cannot
-- work, so that the failures show as non-2xx answers rather than a stall.
local queue = {}
local head, tail = 1, 0
local threads = 0
local scope

function setup(thread)
	threads = threads + 1
	thread:set("id", threads)
end

local function encode(s)
	return (s:gsub("[^%w%-%._~]", function(ch) return string.format("%%%02X", ch:byte()) end))
end

local function push(t)
	tail = tail + 1
	queue[tail] = t
end

function init(args)
	local n = tonumber(args[1]) or 1
	local i = 0
	for line in io.lines(os.getenv("OAUTH_REFRESH_FILE")) do
		if line ~= "" then
			if i % n == id - 1 then push(line) end
			i = i + 1
		end
	end
	scope = encode(os.getenv("OAUTH_SCOPE") or "")
	wrk.method = "POST"
	wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
	wrk.headers["Authorization"] = "Basic " .. os.getenv("OAUTH_AUTH")
end

function request()
	local t = "exhausted"
	if head <= tail then
		t = queue[head]
		queue[head] = nil
		head = head + 1
	end
	return wrk.format(nil, nil, nil,
		"grant_type=refresh_token&refresh_token=" .. encode(t) .. "&scope=" .. scope)
end

function response(status, headers, body)
	if status == 200 then
		local t = body:match('"refresh_token"%s*:%s*"([^"]+)"')
		if t then push(t) end
	end
end
