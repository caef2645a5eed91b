-- wrk script: the same form POST every time (a token, introspection or revocation request).
-- OAUTH_BODY in the environment is the form body; OAUTH_AUTH, when set, the base64 of
-- "client_id:client_secret" for client_secret_basic.
function init(args)
	wrk.method = "POST"
	wrk.body = os.getenv("OAUTH_BODY")
	wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
	local auth = os.getenv("OAUTH_AUTH")
	if auth and auth ~= "" then
		wrk.headers["Authorization"] = "Basic " .. auth
	end
end
